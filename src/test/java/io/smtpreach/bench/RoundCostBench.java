package io.smtpreach.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.smtpreach.agent.AgentClient;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.TlsMode;
import io.smtpreach.api.TlsSpec;
import io.smtpreach.chart.ImageArchive;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.RealNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.probe.Reason;
import io.smtpreach.reconciler.AgentPods;
import io.smtpreach.reconciler.ProbePodFactory;
import io.smtpreach.reconciler.ProbeSettings;
import io.smtpreach.reconciler.ProbeSource;
import io.smtpreach.reconciler.TestOperatorConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a round costs a real node ({@code make bench-round-cost}, docs/benchmarks.md): pods one
 * after another on a kubelet + containerd node, the CPU each costs split by who spends it (the
 * container, the kubelet, containerd with the CNI plugins it runs, the shims with runc, the control
 * plane), idle subtracted, and pod create to result; blackbox_exporter's CPU per probe of the same
 * Postfix in the same run. Kinds: busybox {@code true} (the floor), a probe pod of one endpoint, a
 * shared probe pod of eight, both built by the operator's own {@link ProbePodFactory}; then three
 * resident agents, one per zone, called by the operator's own dispatcher.
 */
@WithLocalCluster
@ExtendWith(PostfixPeer.class)
class RoundCostBench {
  private static final int PODS = Integer.getInteger("bench.pods", 20);
  private static final int BLACKBOX_PROBES = 200;
  private static final RealNode.Config NODE = new RealNode.Config("real-a", "zone-a", 101);
  private static final String IMAGE = "ghcr.io/smtp-reach/smtp-reach:0.1.0";
  private static final Path REPORT = ProjectPaths.root().resolve("target/bench/round-cost.md");
  private static final int WARM_ROUNDS = 3_000;
  private static final int SOAK_ROUNDS = Integer.getInteger("bench.soak", 5_000);
  private static final int SOAK_CHUNKS = 5;

  @Test
  void whatAPodPerRoundCostsANode(LocalCluster cluster, @TestNamespace String ns) throws Exception {
    RealNode.requireSupport();
    RealNode node = cluster.startRealNode(NODE);
    // The node's resolver, as a cluster's DNS would answer: the probes' reverse look-ups of their
    // own address (egress) get NXDOMAIN at once instead of waiting out a silent resolver.
    FakeDnsServer dns = FakeDnsServer.start(java.net.InetAddress.getByName(NODE.address()), 53);
    node.importImage(ImageArchive.require());
    KubernetesClient k = cluster.client();
    CpuMeter meter = new CpuMeter(cluster.dir(), node);

    CpuMeter.Sample idle = meter.measure(() -> waitFor(Duration.ofSeconds(15)));
    List<String> rows = new ArrayList<>();
    rows.add(
        "| CPU per pod (ms) | container | kubelet | containerd + CNI | shims + runc | control plane"
            + " | total | create -> result (ms) |");
    rows.add("|---|---|---|---|---|---|---|---|");
    Map<String, Double> totals = new java.util.HashMap<>();
    Map<String, Supplier<Pod>> kinds = new java.util.LinkedHashMap<>();
    kinds.put("busybox `true`", () -> busybox(ns));
    kinds.put("probe, 1 endpoint", () -> probePod(ns, 1));
    kinds.put("batch, 8 endpoints", () -> probePod(ns, 8));
    kinds.put("batch, 12 endpoints (the default)", () -> probePod(ns, 12));
    for (var kind : kinds.entrySet()) {
      runPods(k, ns, kind.getValue(), 2); // warm: the image's first start, the node's caches
      List<Long> latencies = new ArrayList<>();
      CpuMeter.Sample s =
          meter.measure(() -> latencies.addAll(runPods(k, ns, kind.getValue(), PODS)));
      CpuMeter.Sample net = s.minusIdle(idle);
      totals.put(kind.getKey(), net.totalMs() / PODS);
      rows.add(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d |",
              kind.getKey(),
              net.containerMs() / PODS,
              net.kubeletMs() / PODS,
              net.containerdMs() / PODS,
              net.shimsMs() / PODS,
              net.controlPlaneMs() / PODS,
              net.totalMs() / PODS,
              latencies.stream().sorted().toList().get(latencies.size() / 2)));
    }

    double blackbox = blackboxCpuPerProbeMs(NODE.address() + ":587");
    rows.add("");
    rows.add(
        String.format(
            Locale.ROOT,
            "blackbox_exporter, resident, same Postfix (STARTTLS, EHLO, QUIT): %.2f ms CPU per"
                + " probe (%d probes)",
            blackbox,
            BLACKBOX_PROBES));
    double one = totals.get("probe, 1 endpoint");
    double perEndpointOf8 = totals.get("batch, 8 endpoints") / 8;
    double perEndpointOf12 = totals.get("batch, 12 endpoints (the default)") / 12;
    rows.add(
        String.format(
            Locale.ROOT,
            "CPU per endpoint-round: a pod of its own %.0f ms (%.0fx blackbox_exporter), a shared"
                + " pod of 8 %.0f ms (%.0fx), of 12 %.0f ms (%.0fx)",
            one,
            one / blackbox,
            perEndpointOf8,
            perEndpointOf8 / blackbox,
            perEndpointOf12,
            perEndpointOf12 / blackbox));
    rows.add("");
    rows.addAll(agentRounds(k, ns, meter, idle, blackbox));
    dns.close();
    Files.createDirectories(REPORT.getParent());
    Files.writeString(REPORT, String.join("\n", rows) + "\n");
    System.out.println("round cost (" + PODS + " pods per kind, idle subtracted):");
    rows.forEach(System.out::println);
    assertThat(blackbox).isPositive();
  }

  /**
   * Three resident agents on the node, as the operator's workloads run them, standing for three
   * sources (zones): after a warm-up, 100 and then 1,000 endpoints each probed from the three, sent
   * as the operator sends them ({@link AgentPods#rounds}: its dispatcher, asks that wait sharing a
   * call): CPU per endpoint-round and per probe by part, the caller's (this JVM: the operator's
   * side) included, idle subtracted; then the agents' RSS over {@link #SOAK_ROUNDS} more.
   */
  private static List<String> agentRounds(
      KubernetesClient k, String ns, CpuMeter meter, CpuMeter.Sample idle, double blackbox)
      throws Exception {
    OperatorConfig config = imageConfig();
    String key = "bench-" + java.util.UUID.randomUUID() + "-" + java.util.UUID.randomUUID();
    k.secrets().inNamespace(ns).resource(AgentPods.keySecret(ns, key)).create();
    Map<ProbeSource, URI> agents = new java.util.LinkedHashMap<>();
    for (String zone : List.of("a", "b", "c")) {
      Pod agent =
          k.pods()
              .inNamespace(ns)
              .resource(AgentPods.pod(config, ns, NODE.name(), "agent-zone-" + zone))
              .create();
      Pod ready =
          await("agent " + zone + " ready")
              .atMost(Duration.ofMinutes(2))
              .until(
                  () -> k.pods().inNamespace(ns).withName(agent.getMetadata().getName()).get(),
                  p ->
                      p.getStatus() != null
                          && p.getStatus().getConditions() != null
                          && p.getStatus().getConditions().stream()
                              .anyMatch(
                                  c ->
                                      "Ready".equals(c.getType()) && "True".equals(c.getStatus())));
      agents.put(
          new ProbeSource("zone-" + zone, Map.of("topology.kubernetes.io/zone", "zone-" + zone)),
          URI.create("http://" + ready.getStatus().getPodIP() + ":" + config.agents().port()));
    }
    AgentClient client = new AgentClient(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    int maxCalls = config.agents().maxCalls();
    // Warm: the agents' JIT and TLS machinery, and this JVM's, as after a few minutes of rounds.
    AgentPods.rounds(client, agents, endpoints(ns, WARM_ROUNDS, config), maxCalls, Reason.OK);

    List<String> rows = new ArrayList<>();
    rows.add(
        "| CPU (ms) | agents | kubelet | containerd + CNI | shims + runc | control plane |"
            + " operator's calls | per endpoint-round (3 probes) | per probe | per probe vs"
            + " blackbox_exporter | call (median ms) |");
    rows.add("|---|---|---|---|---|---|---|---|---|---|---|");
    long self = ProcessHandle.current().pid();
    for (int n : new int[] {100, 1000}) {
      List<ProbePodFactory.Member> members = endpoints(ns, n, config);
      long callerBefore = CpuMeter.processCpuMs(self);
      List<Long> calls = new ArrayList<>();
      CpuMeter.Sample s =
          meter.measure(
              () -> calls.addAll(AgentPods.rounds(client, agents, members, maxCalls, Reason.OK)));
      double caller = CpuMeter.processCpuMs(self) - callerBefore;
      CpuMeter.Sample net = s.minusIdle(idle);
      double total = (net.totalMs() + caller) / n;
      double perProbe = total / agents.size();
      rows.add(
          String.format(
              Locale.ROOT,
              "| %d endpoints from %d zones | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f"
                  + " | %.1fx | %d (%d calls) |",
              n,
              agents.size(),
              net.containerMs() / n,
              net.kubeletMs() / n,
              net.containerdMs() / n,
              net.shimsMs() / n,
              net.controlPlaneMs() / n,
              caller / n,
              total,
              perProbe,
              perProbe / blackbox,
              calls.stream().sorted().toList().get(calls.size() / 2),
              calls.size()));
    }
    List<Long> pids = agentPids();
    List<String> rss = new ArrayList<>(List.of(rssMib(pids)));
    for (int i = 0; i < SOAK_CHUNKS; i++) {
      AgentPods.rounds(
          client, agents, endpoints(ns, SOAK_ROUNDS / SOAK_CHUNKS, config), maxCalls, Reason.OK);
      rss.add(rssMib(pids));
    }
    rows.add("");
    rows.add(
        String.format(
            Locale.ROOT,
            "agents' RSS (MiB, each of the %d) over %d more endpoint-rounds, every %d: %s",
            pids.size(),
            SOAK_ROUNDS,
            SOAK_ROUNDS / SOAK_CHUNKS,
            String.join(", ", rss)));
    for (Pod p : k.pods().inNamespace(ns).list().getItems()) {
      k.pods().inNamespace(ns).resource(p).withGracePeriod(0).delete();
    }
    return rows;
  }

  /** The agents' RSS in MiB, as "a/b/c". */
  private static String rssMib(List<Long> pids) throws IOException {
    List<String> each = new ArrayList<>();
    for (long pid : pids) {
      each.add(String.format(Locale.ROOT, "%.0f", rssKib(pid) / 1024.0));
    }
    return String.join("/", each);
  }

  /** The agents' JVMs on this machine: the processes whose command line names the agents' key. */
  private static List<Long> agentPids() {
    return ProcessHandle.allProcesses()
        .filter(
            p ->
                p.info()
                    .arguments()
                    .map(a -> String.join(" ", a).contains("--key-file=/etc/smtp-reach/agent/key"))
                    .orElse(false))
        .filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(false))
        .map(ProcessHandle::pid)
        .sorted()
        .toList();
  }

  private static long rssKib(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.startsWith("VmRSS:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Runs {@code count} pods one after another; returns each one's create to its container's end as
   * a watch reports it, in ms. One watch for the run: polling would be a cost of its own.
   */
  private static List<Long> runPods(KubernetesClient k, String ns, Supplier<Pod> pod, int count) {
    Map<String, CompletableFuture<Pod>> ended = new ConcurrentHashMap<>();
    List<Long> latencies = new ArrayList<>();
    try (Watch unused =
        k.pods()
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Pod p) {
                    var statuses =
                        p.getStatus() == null ? null : p.getStatus().getContainerStatuses();
                    if (statuses != null
                        && !statuses.isEmpty()
                        && statuses.get(0).getState().getTerminated() != null) {
                      ended
                          .computeIfAbsent(
                              p.getMetadata().getName(), n -> new CompletableFuture<>())
                          .complete(p);
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      for (int i = 0; i < count; i++) {
        long start = System.nanoTime();
        String name = k.pods().inNamespace(ns).resource(pod.get()).create().getMetadata().getName();
        Pod done =
            ended
                .computeIfAbsent(name, n -> new CompletableFuture<>())
                .orTimeout(2, TimeUnit.MINUTES)
                .join();
        latencies.add((System.nanoTime() - start) / 1_000_000);
        var terminated = done.getStatus().getContainerStatuses().get(0).getState().getTerminated();
        assertThat(terminated.getReason())
            .as(name + ": " + terminated.getMessage())
            .isNotEqualTo("OOMKilled");
        k.pods().inNamespace(ns).withName(name).withGracePeriod(0).delete();
      }
    }
    await("the pods gone")
        .atMost(Duration.ofMinutes(1))
        .until(() -> k.pods().inNamespace(ns).list().getItems().isEmpty());
    return latencies;
  }

  private static Pod busybox(String ns) {
    return new PodBuilder()
        .withMetadata(new ObjectMetaBuilder().withGenerateName("true-").withNamespace(ns).build())
        .withNewSpec()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .addToNodeSelector("kubernetes.io/hostname", NODE.name())
        .addNewContainer()
        .withName("main")
        .withImage(RealNode.busyboxImage())
        .withImagePullPolicy("Never")
        .withCommand("true")
        .endContainer()
        .endSpec()
        .build();
  }

  /** The operator's defaults with the image make image built. */
  private static OperatorConfig imageConfig() {
    return new TestOperatorConfig() {
      @Override
      public String probeImage() {
        return IMAGE;
      }
    };
  }

  /** A probe pod as the operator builds it, for {@code endpoints} endpoints probing 587. */
  private static Pod probePod(String ns, int endpoints) {
    OperatorConfig config = imageConfig();
    Pod pod =
        new ProbePodFactory(config)
            .build(
                endpoints(ns, endpoints, config),
                new ProbeSource("zone-a", Map.of("kubernetes.io/hostname", NODE.name())));
    pod.getMetadata().setName(null);
    pod.getMetadata().setGenerateName("probe-");
    pod.getMetadata().setOwnerReferences(null);
    return pod;
  }

  /** Endpoints probing the node's Postfix on 587 (STARTTLS, certificate not checked). */
  private static List<ProbePodFactory.Member> endpoints(
      String ns, int endpoints, OperatorConfig config) {
    List<ProbePodFactory.Member> members = new ArrayList<>();
    for (int i = 0; i < endpoints; i++) {
      SmtpEndpoint ep = new SmtpEndpoint();
      ep.setMetadata(
          new ObjectMetaBuilder()
              .withName("mail-" + i)
              .withNamespace(ns)
              .withUid(java.util.UUID.randomUUID().toString())
              .build());
      SmtpEndpointSpec spec = new SmtpEndpointSpec();
      spec.host = NODE.address();
      spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
      spec.tls = new TlsSpec();
      spec.tls.insecureSkipVerify = true;
      ep.setSpec(spec);
      members.add(
          new ProbePodFactory.Member(
              ep, ProbeSettings.of(ep, config), Long.toHexString(System.nanoTime())));
    }
    return members;
  }

  /** blackbox_exporter's own CPU per SMTP STARTTLS probe of {@code target}, in ms. */
  private static double blackboxCpuPerProbeMs(String target) throws Exception {
    Path bin =
        Path.of(
            ProcessRunner.run(
                    List.of(ProjectPaths.hack("blackbox-exporter.sh").toString(), "build"), 1800)
                .orThrow("hack/blackbox-exporter.sh build")
                .output()
                .strip()
                .lines()
                .reduce((a, b) -> b)
                .orElseThrow());
    Path config = Files.createTempFile("blackbox-", ".yml");
    Files.writeString(
        config,
        """
        modules:
          smtp_starttls:
            prober: tcp
            timeout: 10s
            tcp:
              query_response:
                - expect: "^220 ([^ ]+) ESMTP (.+)$"
                - send: "EHLO prober\\r"
                - expect: "^250-STARTTLS"
                - send: "STARTTLS\\r"
                - expect: "^220"
                - starttls: true
                - send: "EHLO prober\\r"
                - expect: "^250 "
                - send: "QUIT\\r"
              tls_config:
                insecure_skip_verify: true
        """);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process p =
        new ProcessBuilder(
                bin.toString(), "--config.file=" + config, "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      HttpClient http = HttpClient.newHttpClient();
      URI probe =
          URI.create("http://127.0.0.1:" + port + "/probe?module=smtp_starttls&target=" + target);
      await("blackbox_exporter up")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> get(http, probe).contains("probe_success 1"));
      for (int i = 0; i < 10; i++) {
        get(http, probe);
      }
      long before = CpuMeter.processCpuMs(p.pid());
      for (int i = 0; i < BLACKBOX_PROBES; i++) {
        assertThat(get(http, probe)).contains("probe_success 1");
      }
      return (CpuMeter.processCpuMs(p.pid()) - before) / (double) BLACKBOX_PROBES;
    } finally {
      p.destroy();
      Files.deleteIfExists(config);
    }
  }

  private static String get(HttpClient http, URI uri) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static void waitFor(Duration d) {
    await("idle").pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
  }
}
