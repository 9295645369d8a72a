package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.TlsMode;
import io.smtpreach.cluster.ImageMap;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.OperatorProcess;
import io.smtpreach.cluster.ProcessNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProjectPaths;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a real cluster does to an operator: two replicas behind the leader-election Lease, the
 * leader killed mid-round, the API server frozen for 90 s mid-round. Each time the rounds carry on
 * within one interval of recovery, nothing is probed twice and no round's result is lost. Replicas
 * that exit (JOSDK exits when it loses its Lease) are restarted, as the kubelet would.
 */
@WithLocalCluster
@ExtendWith(PostfixPeer.class)
class OperatorChaosIT {
  private static final int SUBNET = 95;
  private static final Duration INTERVAL = Duration.ofSeconds(30);
  private static final Duration OUTAGE = Duration.ofSeconds(90);

  private static LocalCluster cluster;
  private static KubernetesClient k;
  private static NetworkNamespace zoneB;
  private static Path kubeconfig;
  private static EndpointSteps steps;
  private static final List<OperatorProcess> replicas = new ArrayList<>();

  @BeforeAll
  static void install(LocalCluster localCluster, PostfixPeer.Instance peer) {
    NetworkNamespace.requireSupport();
    OperatorProcess.requireJar();
    cluster = localCluster;
    k = cluster.client();
    zoneB = NetworkNamespace.create(SUBNET);
    cluster.startNode(
        new ProcessNode.NodeConfig("node-a", "zone-a", "open", null), ImageMap.standard());
    cluster.startNode(
        new ProcessNode.NodeConfig("node-b", "zone-b", "open", zoneB), ImageMap.standard());
    kubeconfig = OperatorInstall.install(cluster);
    steps = new EndpointSteps(k, peer.caFile());
    replicas.add(start(1));
    replicas.add(start(2));
    Awaitility.setDefaultPollInterval(Duration.ofMillis(500));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(90));
  }

  @AfterAll
  static void uninstall() {
    replicas.forEach(OperatorProcess::close);
    if (zoneB != null) {
      zoneB.close();
    }
    Awaitility.reset();
  }

  @AfterEach
  void openTheFirewall() {
    zoneB.flush();
  }

  @Test
  void theLeaderKilledMidRoundLosesNothingAndTheOtherReplicaFinishesIt(@TestNamespace String ns) {
    List<String> probed = watchProbes(ns);
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    steps.create(ns, "mail", perZone());
    SmtpEndpointStatus inProgress = awaitPodsOfTheRound(ns, probed);

    OperatorProcess leader = leader();
    OperatorProcess standby = replicas.get(1 - replicas.indexOf(leader));
    await("the standby's first sweep (15 s after its start)")
        .until(
            () ->
                ProcessHandle.of(standby.pid())
                    .flatMap(h -> h.info().startInstant())
                    .map(t -> t.isBefore(Instant.now().minusSeconds(20)))
                    .orElse(false));
    assertThat(standby.log())
        .as("a replica waiting on the Lease has no informers for its sweep to read")
        .doesNotContain("sweep failed");
    leader.kill();
    replicas.set(replicas.indexOf(leader), start(replicas.indexOf(leader) + 1));

    SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);
    assertThat(s.lastProbeTime).isEqualTo(inProgress.round.startedAt.substring(0, 19) + "Z");
    assertThat(s.ports.get(0).sources)
        .extracting(src -> src.name + "=" + src.state)
        .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Blocked");
    steps.awaitRound(ns, "mail", s.lastProbeTime);
    assertThat(probed).as("each source probed once per round").doesNotHaveDuplicates();
  }

  @Test
  void anApiServerFrozenFor90sMidRoundLeavesEveryRoundToCarryOn(@TestNamespace String ns)
      throws Exception {
    List<String> probed = watchProbes(ns);
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    steps.create(ns, "mail", perZone());
    SmtpEndpointStatus inProgress = awaitPodsOfTheRound(ns, probed);
    String inFlight = inProgress.round.startedAt.substring(0, 19) + "Z";

    cluster.freezeApiServer(OUTAGE);
    Instant recovered = Instant.now();
    restartExitedReplicas();

    SmtpEndpointStatus s;
    try {
      s =
          await("the round in flight during the outage, read after it")
              .atMost(INTERVAL.plusSeconds(45))
              .until(
                  () -> steps.get(ns, "mail").getStatus(),
                  st -> st != null && inFlight.equals(st.lastProbeTime));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          e.getMessage()
              + "\nin flight: "
              + inProgress.round.id
              + " at "
              + inFlight
              + "\n"
              + describe(ns),
          e);
    }
    assertThat(s.ports.get(0).sources)
        .extracting(src -> src.name + "=" + src.state)
        .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Blocked");
    await("a round started after recovery, finished within one interval")
        .atMost(INTERVAL.plusSeconds(45))
        .until(
            () -> steps.get(ns, "mail").getStatus(),
            st ->
                EndpointSteps.idle(st)
                    && !Instant.parse(st.lastProbeTime).isBefore(recovered.minusSeconds(1)));
    assertThat(probed).as("each source probed once per round").doesNotHaveDuplicates();
  }

  // --- steps ---

  /** The endpoint's conditions and its pods' phases and container states, for a failure. */
  private static String describe(String ns) {
    var json = k.getKubernetesSerialization();
    StringBuilder out = new StringBuilder();
    SmtpEndpointStatus status = steps.get(ns, "mail").getStatus();
    out.append("lastProbeTime ").append(status.lastProbeTime).append(", round ");
    out.append(json.asJson(status.round)).append('\n');
    out.append(json.asJson(status.conditions)).append('\n');
    for (Pod p : k.pods().inNamespace(ns).list().getItems()) {
      out.append(p.getMetadata().getName())
          .append(' ')
          .append(p.getMetadata().getCreationTimestamp())
          .append(' ')
          .append(p.getSpec().getNodeName())
          .append(' ')
          .append(json.asJson(p.getStatus()))
          .append('\n');
    }
    return out.toString();
  }

  private static OperatorProcess start(int replica) {
    String name = "replica-" + replica;
    return OperatorProcess.start(
        kubeconfig,
        Map.of(
            "HOSTNAME", name,
            "SMTP_REACH_POD_START_TIMEOUT", "10s",
            "SMTP_REACH_PROBE_START_ALLOWANCE", "20s",
            "SMTP_REACH_PROBE_BATCH_WINDOW", "100ms"),
        ProjectPaths.root().resolve("target/operator-chaos-it/" + name + ".log"),
        List.of("-Xmx256m"),
        false);
  }

  /** The replica that holds the Lease. */
  private static OperatorProcess leader() {
    String holder =
        await("a Lease holder")
            .until(
                () -> {
                  var lease =
                      k.leases()
                          .inNamespace(OperatorInstall.NAMESPACE)
                          .withName("smtp-reach-operator")
                          .get();
                  return lease == null ? null : lease.getSpec().getHolderIdentity();
                },
                h -> h != null);
    return replicas.get(Integer.parseInt(holder.substring("replica-".length())) - 1);
  }

  /** A replica that exited (it lost its Lease) starts again, as its pod's kubelet would. */
  private static void restartExitedReplicas() {
    for (int i = 0; i < replicas.size(); i++) {
      if (!replicas.get(i).isAlive()) {
        replicas.set(i, start(i + 1));
      }
    }
  }

  /** Records each probe pod's (round, source) as it appears. */
  private static List<String> watchProbes(String ns) {
    List<String> probed = new CopyOnWriteArrayList<>();
    k.pods()
        .inNamespace(ns)
        .inform(
            new ResourceEventHandler<Pod>() {
              @Override
              public void onAdd(Pod pod) {
                probed.add(ProbePodReader.members(pod) + "@" + ProbePodReader.source(pod));
              }

              @Override
              public void onUpdate(Pod before, Pod after) {}

              @Override
              public void onDelete(Pod pod, boolean unknown) {}
            });
    return probed;
  }

  private static SmtpEndpointStatus awaitPodsOfTheRound(String ns, List<String> probed) {
    await("both zones' pods of the first round").until(() -> probed.size() == 2);
    return await("the round in status")
        .until(() -> steps.get(ns, "mail").getStatus(), st -> st != null && st.round != null);
  }

  /** The local Postfix from both zones, 587 only, a 30 s interval and a 5 s connect timeout. */
  private static SmtpEndpointSpec perZone() {
    SmtpEndpointSpec spec = EndpointSteps.postfixPerZone(zoneB.hostAddress());
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.interval = INTERVAL.toSeconds() + "s";
    spec.timeout = "8s";
    spec.connectTimeout = "5s";
    return spec;
  }
}
