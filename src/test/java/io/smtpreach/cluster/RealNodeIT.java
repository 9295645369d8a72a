package io.smtpreach.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Real nodes as a specification: two kubelets with their own containerd join the local control
 * plane in two zones; pods are containers whose termination message the API reports; they resolve
 * names only through the resolver the tests run, reach nothing off this machine, and one zone's 587
 * can be dropped by a rule the test adds. Stopping the nodes leaves the host as it was.
 */
@WithLocalCluster
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealNodeIT {
  private static final RealNode.Config ZONE_A = new RealNode.Config("real-a", "zone-a", 101);
  private static final RealNode.Config ZONE_B = new RealNode.Config("real-b", "zone-b", 102);
  private static final Duration POD_TIMEOUT = Duration.ofSeconds(60);

  private static HostState before;
  private static String busybox;
  private static RealNode zoneA;
  private static RealNode zoneB;

  @BeforeAll
  static void nodes(LocalCluster cluster) {
    RealNode.requireSupport();
    before = HostState.capture();
    busybox = RealNode.busyboxImage();
    zoneA = cluster.startRealNode(ZONE_A);
    zoneB = cluster.startRealNode(ZONE_B);
    for (RealNode n : List.of(zoneA, zoneB)) {
      System.out.printf(
          "real node %s: up in %d ms, kubelet start to Ready %s%n",
          n.name(), n.startup().toMillis(), n.kubeletToReady());
    }
  }

  @Test
  @Order(1)
  void nodesRegisterReadyInTheirZones(LocalCluster cluster) {
    for (RealNode n : List.of(zoneA, zoneB)) {
      Node node = cluster.client().nodes().withName(n.name()).get();
      assertThat(node.getMetadata().getLabels())
          .containsEntry("topology.kubernetes.io/zone", n.config().zone())
          .containsEntry(RealNode.REAL_NODE_LABEL, "true");
      assertThat(node.getStatus().getConditions())
          .anySatisfy(
              c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("True");
              });
      assertThat(node.getStatus().getAddresses())
          .anySatisfy(a -> assertThat(a.getAddress()).isEqualTo(n.config().address()));
      assertThat(node.getStatus().getNodeInfo().getKubeletVersion()).isEqualTo("v1.37.2");
      assertThat(node.getStatus().getNodeInfo().getContainerRuntimeVersion())
          .startsWith("containerd://1.6");
    }
  }

  @Test
  @Order(2)
  void aPodRunsAndTheApiReportsItsTerminationMessageAndLogs(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    k.pods()
        .inNamespace(ns)
        .resource(
            shell(
                "hello",
                zoneA,
                "echo to the log; echo \"hello from $(hostname) at $(hostname -i)\""
                    + " > /dev/termination-log"))
        .create();

    ContainerStateTerminated t = awaitTerminated(k, ns, "hello");

    assertThat(t.getExitCode()).isZero();
    assertThat(t.getReason()).isEqualTo("Completed");
    assertThat(t.getMessage()).startsWith("hello from hello at 198.18.101.");
    assertThat(k.pods().inNamespace(ns).withName("hello").getLog()).isEqualTo("to the log\n");
  }

  @Test
  @Order(3)
  void podsAskOnlyTheResolverTheTestsRun(LocalCluster cluster, @TestNamespace String ns)
      throws Exception {
    try (FakeDnsServer dns =
        FakeDnsServer.start(InetAddress.getByName(zoneA.config().address()), 53)) {
      dns.a("smtp.test", "198.18.99.1");
      KubernetesClient k = cluster.client();
      k.pods()
          .inNamespace(ns)
          .resource(
              shell(
                  "dns",
                  zoneA,
                  "{ cat /etc/resolv.conf; nslookup smtp.test.; } > /dev/termination-log 2>&1"))
          .create();

      String message = awaitTerminated(k, ns, "dns").getMessage();

      assertThat(message.lines().filter(l -> l.startsWith("nameserver")))
          .containsExactly("nameserver " + zoneA.config().address());
      assertThat(message).contains("Address: 198.18.99.1");
      assertThat(dns.queries("smtp.test")).isNotEmpty();
    }
  }

  @Test
  @Order(4)
  void aPodCannotReachAnAddressOffThisMachine(LocalCluster cluster, @TestNamespace String ns) {
    long rejectedBefore = zoneA.rejectedPackets();
    KubernetesClient k = cluster.client();
    // 192.0.2.1 (TEST-NET-1) is never routed anywhere; the fence rejects it on this machine.
    k.pods()
        .inNamespace(ns)
        .resource(shell("offhost", zoneA, timed("nc -w 5 192.0.2.1 25")))
        .create();

    String message = awaitTerminated(k, ns, "offhost").getMessage();

    assertThat(message).contains("No route to host").contains("exit=1");
    // Rejected, not dropped: the connect fails well before nc's 5 s. (This kernel reports the
    // ICMP error on the retransmitted SYN, a second after the first.)
    assertThat(elapsedMillis(message)).isLessThan(3_000);
    assertThat(zoneA.rejectedPackets()).isGreaterThan(rejectedBefore);
  }

  @Test
  @Order(5)
  void dropping587InZoneBTimesOutThereAndNowhereElse(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    // Whether or not something listens on 587 here, an answer (refused, or a greeting and a
    // goodbye) comes at once unless the packets are dropped: then the connect times out.
    String target = "printf 'QUIT\\r\\n' | nc -w 3 " + zoneA.config().address() + " 587";
    zoneB.addEgressRule("-p", "tcp", "--dport", "587", "-j", "DROP");
    try {
      k.pods().inNamespace(ns).resource(shell("b-blocked", zoneB, timed(target))).create();
      k.pods().inNamespace(ns).resource(shell("a-open", zoneA, timed(target))).create();

      assertThat(elapsedMillis(awaitTerminated(k, ns, "b-blocked").getMessage()))
          .isGreaterThanOrEqualTo(2_900);
      assertThat(elapsedMillis(awaitTerminated(k, ns, "a-open").getMessage())).isLessThan(1_000);
    } finally {
      zoneB.clearEgressRules();
    }
    k.pods().inNamespace(ns).resource(shell("b-reopened", zoneB, timed(target))).create();
    assertThat(elapsedMillis(awaitTerminated(k, ns, "b-reopened").getMessage())).isLessThan(1_000);
  }

  @Test
  @Order(6)
  void anyImageArchiveCanBeImported(LocalCluster cluster, @TestNamespace String ns) {
    Path project = ProjectPaths.root().resolve("target/image");
    List<Path> archives = new ArrayList<>();
    try (var files = Files.list(project)) {
      files.filter(f -> f.toString().endsWith(".tar")).forEach(archives::add);
    } catch (IOException e) {
      // no project image built (make image): the busybox archive stands in
    }
    if (archives.isEmpty()) {
      archives.add(Path.of(busyboxArchive()));
    }
    for (Path archive : archives) {
      assertThat(zoneB.importImage(archive)).as("images in " + archive).isNotEmpty();
    }
  }

  @Test
  @Order(7)
  void figures(LocalCluster cluster, @TestNamespace String ns) throws Exception {
    KubernetesClient k = cluster.client();
    int pods = 10;
    Map<String, long[]> seen = new ConcurrentHashMap<>(); // created, started, succeeded (nanos)
    Watch watch =
        k.pods()
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {
                    long[] t = seen.get(pod.getMetadata().getName());
                    if (t == null) {
                      return;
                    }
                    long now = System.nanoTime();
                    var statuses = pod.getStatus().getContainerStatuses();
                    if (t[1] == 0 && statuses != null && !statuses.isEmpty()) {
                      var state = statuses.get(0).getState();
                      if (state.getRunning() != null || state.getTerminated() != null) {
                        t[1] = now;
                      }
                    }
                    if (t[2] == 0 && "Succeeded".equals(pod.getStatus().getPhase())) {
                      t[2] = now;
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    try {
      for (int i = 0; i < pods; i++) {
        String name = "p" + i;
        seen.put(name, new long[3]);
        seen.get(name)[0] = System.nanoTime();
        k.pods().inNamespace(ns).resource(shell(name, zoneA, "true")).create();
        await()
            .atMost(POD_TIMEOUT)
            .pollInterval(Duration.ofMillis(50))
            .until(() -> seen.get(name)[2] != 0);
      }
    } finally {
      watch.close();
    }
    double started = seen.values().stream().mapToLong(t -> t[1] - t[0]).average().orElse(0) / 1e6;
    double succeeded = seen.values().stream().mapToLong(t -> t[2] - t[0]).average().orElse(0) / 1e6;
    RealNode.Memory memory = zoneA.memory();
    System.out.printf(
        "real node figures: %d pods one after another: create -> container started %.0f ms,"
            + " -> Succeeded %.0f ms (mean); memory %s%n",
        pods, started, succeeded, memory);
    assertThat(succeeded).isLessThan(POD_TIMEOUT.toMillis());
  }

  @Test
  @Order(100)
  void stoppingTheNodesLeavesTheHostAsItWas() {
    ProcessRunner.Result b = zoneB.stop();
    ProcessRunner.Result a = zoneA.stop();

    assertThat(b.exitCode()).as(b.output()).isZero();
    assertThat(a.exitCode()).as(a.output()).isZero();
    assertThat(HostState.capture()).isEqualTo(before);
  }

  private static String busyboxArchive() {
    return ProcessRunner.run(List.of(ProjectPaths.hack("real-node.sh").toString(), "images"), 300)
        .orThrow("hack/real-node.sh images")
        .output()
        .lines()
        .filter(l -> l.contains("/busybox-"))
        .findFirst()
        .orElseThrow();
  }

  /** A busybox pod on {@code node} running {@code script} with sh. */
  private static Pod shell(String name, RealNode node, String script) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withTerminationGracePeriodSeconds(0L)
        .withAutomountServiceAccountToken(false)
        .addToNodeSelector("kubernetes.io/hostname", node.name())
        .addNewContainer()
        .withName("main")
        .withImage(busybox)
        .withImagePullPolicy("Never")
        .withCommand("sh", "-c", script)
        .endContainer()
        .endSpec()
        .build();
  }

  /**
   * {@code command}'s output, its exit code and how long it took in ms (from /proc/uptime, in
   * hundredths of a second) as the termination message.
   */
  private static String timed(String command) {
    return "t0=$(cut -d' ' -f1 /proc/uptime); "
        + command
        + " > /tmp/out 2>&1; rc=$?; t1=$(cut -d' ' -f1 /proc/uptime); "
        + "{ cat /tmp/out; echo \"exit=$rc\"; echo \"elapsed_ms=$(awk \"BEGIN { print ($t1 - $t0) * 1000 }\")\"; }"
        + " > /dev/termination-log";
  }

  private static long elapsedMillis(String message) {
    return message
        .lines()
        .filter(l -> l.startsWith("elapsed_ms="))
        .mapToLong(l -> Math.round(Double.parseDouble(l.substring("elapsed_ms=".length()))))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no elapsed_ms in " + message));
  }

  private static ContainerStateTerminated awaitTerminated(
      KubernetesClient k, String ns, String name) {
    Pod pod =
        await("pod " + ns + "/" + name + " terminated")
            .atMost(POD_TIMEOUT)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> k.pods().inNamespace(ns).withName(name).get(),
                p ->
                    p != null
                        && p.getStatus() != null
                        && ("Succeeded".equals(p.getStatus().getPhase())
                            || "Failed".equals(p.getStatus().getPhase())));
    return pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
  }
}
