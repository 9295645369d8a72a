package io.smtpreach.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.ProbeMode;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.cluster.ImageMap;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.OperatorProcess;
import io.smtpreach.cluster.ProcessNode;
import io.smtpreach.cluster.RealNode;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.ReportCodec;
import io.smtpreach.probe.TlsFacts;
import io.smtpreach.reconciler.ProbePodFactory;
import io.smtpreach.reconciler.ProbePodReader;
import io.smtpreach.status.ConditionTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The operator at 100, 1,000 and 5,000 endpoints probed every minute, measured, not asserted
 * ({@code make bench-scale}). The probe image runs a canned-result command on three process nodes,
 * so the operator is what is measured: the packaged operator as its own process with its own RBAC
 * and the chart's heap (40% of its 512 MiB limit). The API server audits the operator's service
 * account; the requests of each steady-state window are counted from that log.
 *
 * <p>With {@code BENCH_PROBE_MODE=Agent} ({@code make bench-scale-agents}) the endpoints are probed
 * by the operator's resident agent instead ({@code probe.mode: Agent}), which process nodes cannot
 * host: one real node (kubelet and containerd) runs it, from the image {@code make image} built,
 * and every endpoint probes the node's own address, where nothing listens, so that each port is
 * Refused at once and the operator is still what is measured. The agent's CPU (the node's pod
 * cgroup) and RSS are reported beside the operator's.
 *
 * <p>Per size: time until every endpoint has a first status; then a window ({@code BENCH_MINUTES},
 * default 10) with the operator's CPU time and RSS, rounds finished, reconcile latency, the API
 * requests per round, and how the rounds ended ({@code ProbesRunning}'s reason). Reconcile latency
 * with pods: a round's probe pod seen terminated to the endpoint's status seen without that round,
 * both by this process's watches; with the agent, which leaves nothing to watch in between: the
 * round's start ({@code status.round.startedAt}, when it is due) to that status. Sizes grow in
 * place: 100, then 900 more, then 4,000 more ({@code BENCH_SIZES}).
 */
@WithLocalCluster
class OperatorScaleBench {
  private static final String OPERATOR_USER = "system:serviceaccount:smtp-reach-system:smtp-reach";
  private static final int NAMESPACES = 10;
  private static final String HOST = "smtp.bench.test";
  private static final int CREATE_PER_SECOND = 50;
  private static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(30);
  private static final RealNode.Config REAL_NODE = new RealNode.Config("real-a", "zone-a", 101);
  private static final String IMAGE = "ghcr.io/smtp-reach/smtp-reach:0.1.0";

  /** How endpoints are probed ({@code BENCH_PROBE_MODE}): Pod (the default) or Agent. */
  private final ProbeMode mode = ProbeMode.valueOf(env("BENCH_PROBE_MODE", "Pod"));

  /** When each round's pod was seen done, by namespace/endpoint/round. */
  private final Map<String, Instant> podDone = new ConcurrentHashMap<>();

  /** When each endpoint was first seen with a probe result, by namespace/endpoint. */
  private final Map<String, Instant> firstStatus = new ConcurrentHashMap<>();

  private final List<Long> latenciesMillis = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong roundsFinished = new AtomicLong();

  /**
   * How the rounds of the window ended: ProbesRunning's reason (and why an agent did not answer).
   */
  private final Map<String, Long> roundOutcomes = new ConcurrentHashMap<>();

  @Test
  void operatorAtScale(LocalCluster cluster) throws Exception {
    if (mode == ProbeMode.Auto) {
      throw new IllegalArgumentException("BENCH_PROBE_MODE is Pod or Agent");
    }
    List<Integer> sizes =
        Arrays.stream(env("BENCH_SIZES", "100,1000,5000").split(","))
            .map(String::strip)
            .map(Integer::parseInt)
            .toList();
    Duration window = Duration.ofMinutes(Long.parseLong(env("BENCH_MINUTES", "10")));
    Path out = ProjectPaths.root().resolve("target/bench");
    Files.createDirectories(out);
    Path audit = cluster.dir().resolve("audit.log");
    if (!Files.exists(audit)) {
      throw new IllegalStateException(
          "no audit log: start the cluster with SMTP_REACH_AUDIT_USER=" + OPERATOR_USER);
    }

    String prefix = mode == ProbeMode.Agent ? "scale-agents" : "scale";
    KubernetesClient k = cluster.client();
    Path kubeconfig = OperatorInstall.install(cluster);
    AgentNode agent = mode == ProbeMode.Agent ? AgentNode.start(cluster, REAL_NODE) : null;
    if (agent == null) {
      startProcessNodes(cluster, out);
    }
    Map<String, String> settings = operatorSettings();
    Supervised operator =
        new Supervised(kubeconfig, settings, out.resolve(prefix + "-operator.log"));
    List<String> namespaces = new ArrayList<>();
    for (int i = 0; i < NAMESPACES; i++) {
      namespaces.add(cluster.createNamespace());
    }
    SharedIndexInformer<SmtpEndpoint> endpoints =
        k.resources(SmtpEndpoint.class).inAnyNamespace().inform(new EndpointWatch(), 0);
    SharedIndexInformer<Pod> pods =
        k.pods()
            .inAnyNamespace()
            .withLabel(ProbePodFactory.MANAGED_BY_LABEL, ProbePodFactory.MANAGED_BY)
            .inform(new PodWatch(), 0);

    StringBuilder report = new StringBuilder();
    report.append(
        "| endpoints | all first status | rounds/min | reconcile p50 | p90 | p99 | operator CPU"
            + " (cores) | RSS median | RSS max | writes/endpoint/round | requests/round (no leases) | LIST"
            + " in window | smtp_reach series | scrape p50 |\n"
            + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    StringBuilder detail = new StringBuilder();
    int created = 0;
    try (operator;
        agent) {
      for (int size : sizes) {
        Instant start = Instant.now();
        createEndpoints(k, namespaces, created, size);
        created = size;
        int expected = size;
        Awaitility.await("all " + size + " endpoints have a first status")
            .atMost(Duration.ofMinutes(30))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> operator.check() && firstStatus.size() >= expected);
        Duration toFirst =
            Duration.between(
                start, firstStatus.values().stream().max(Instant::compareTo).orElseThrow());

        latenciesMillis.clear();
        roundOutcomes.clear();
        long auditFrom = Files.size(audit);
        long roundsFrom = roundsFinished.get();
        long cpuFrom = operator.cpuTicks();
        int restartsFrom = operator.restarts;
        double agentCpuFrom = agent == null ? 0 : agent.cpuMs();
        List<Long> rss = new ArrayList<>();
        List<Long> agentRss = new ArrayList<>();
        List<Long> scrapeMillis = new ArrayList<>();
        List<String> scrapeFailures = new ArrayList<>();
        Map<String, Long> families = new TreeMap<>();
        long[] series = {0};
        Instant windowStart = Instant.now();
        Instant windowEnd = windowStart.plus(window);
        Instant[] nextScrape = {windowStart};
        Awaitility.await("window of " + window)
            .atMost(window.plusMinutes(1))
            .pollInterval(Duration.ofSeconds(5))
            .until(
                () -> {
                  operator.check();
                  long kib = rssKib(operator.process.pid());
                  if (kib > 0) {
                    rss.add(kib);
                  }
                  long agentKib = agent == null ? 0 : agent.rssKib();
                  if (agentKib > 0) {
                    agentRss.add(agentKib);
                  }
                  // Scraped as the chart's ServiceMonitor does, so its cost is in the figures.
                  if (!Instant.now().isBefore(nextScrape[0]) && operator.process.isAlive()) {
                    nextScrape[0] = nextScrape[0].plus(SCRAPE_INTERVAL);
                    long t0 = System.nanoTime();
                    String text;
                    try {
                      text = operator.process.metrics();
                    } catch (RuntimeException e) {
                      // A failed scrape is a result (an operator out of heap, say), not the end.
                      scrapeFailures.add(String.valueOf(e.getMessage()));
                      return !Instant.now().isBefore(windowEnd);
                    }
                    scrapeMillis.add((System.nanoTime() - t0) / 1_000_000);
                    families.clear();
                    text.lines()
                        .filter(l -> l.startsWith("smtp_reach_"))
                        .forEach(l -> families.merge(l.replaceAll("[{ ].*", ""), 1L, Long::sum));
                    series[0] = families.values().stream().mapToLong(Long::longValue).sum();
                  }
                  return !Instant.now().isBefore(windowEnd);
                });
        double seconds = Duration.between(windowStart, Instant.now()).toMillis() / 1000.0;
        double cores = (operator.cpuTicks() - cpuFrom) / 100.0 / seconds;
        long rounds = roundsFinished.get() - roundsFrom;
        Map<String, Long> requests = countRequests(audit, auditFrom);
        long writes =
            requests.entrySet().stream()
                .filter(e -> e.getKey().matches("(create|update|patch|delete) .*"))
                .filter(e -> !e.getKey().endsWith(" leases"))
                .mapToLong(Map.Entry::getValue)
                .sum();
        // Leader election renews its Lease every few seconds whatever the number of endpoints.
        long all =
            requests.entrySet().stream()
                .filter(e -> !e.getKey().endsWith(" leases"))
                .mapToLong(Map.Entry::getValue)
                .sum();
        long lists =
            requests.entrySet().stream()
                .filter(e -> e.getKey().startsWith("list "))
                .mapToLong(Map.Entry::getValue)
                .sum();
        List<Long> lat;
        synchronized (latenciesMillis) {
          lat = new ArrayList<>(latenciesMillis);
        }
        lat.sort(Long::compare);
        rss.sort(Long::compare);
        scrapeMillis.sort(Long::compare);
        String row =
            String.format(
                Locale.ROOT,
                "| %d | %.1f s | %.0f | %d ms | %d ms | %d ms | %.3f | %.0f MiB | %.0f MiB | %.2f |"
                    + " %.2f | %d | %d | %d ms |%n",
                size,
                toFirst.toMillis() / 1000.0,
                rounds * 60 / seconds,
                percentile(lat, 50),
                percentile(lat, 90),
                percentile(lat, 99),
                cores,
                rss.get(rss.size() / 2) / 1024.0,
                rss.get(rss.size() - 1) / 1024.0,
                rounds == 0 ? Double.NaN : (double) writes / rounds,
                rounds == 0 ? Double.NaN : (double) all / rounds,
                lists,
                series[0],
                percentile(scrapeMillis, 50));
        report.append(row);
        int detailFrom = detail.length();
        detail.append(
            String.format(
                Locale.ROOT, "%n%d endpoints, %.0f s window, %d rounds:%n", size, seconds, rounds));
        requests.forEach(
            (key, n) ->
                detail.append(
                    String.format(
                        Locale.ROOT,
                        "  %-40s %8d  %6.3f per round%n",
                        key,
                        n,
                        rounds == 0 ? Double.NaN : (double) n / rounds)));
        detail.append("  smtp_reach series by family, last scrape: ").append(tally(families));
        detail.append('\n');
        if (!scrapeFailures.isEmpty()) {
          detail
              .append("  scrapes failed: ")
              .append(scrapeFailures.size())
              .append(" (first: ")
              .append(scrapeFailures.get(0).lines().findFirst().orElse(""))
              .append(")\n");
        }
        detail.append("  rounds ended: ").append(tally(roundOutcomes)).append('\n');
        detail
            .append("  port results in status at the window's end: ")
            .append(tally(portResults(endpoints.getStore().list())))
            .append('\n');
        if (operator.restarts > restartsFrom) {
          detail
              .append("  operator restarts: ")
              .append(operator.restarts - restartsFrom)
              .append('\n');
        }
        if (agent != null) {
          agentRss.sort(Long::compare);
          detail.append(
              String.format(
                  Locale.ROOT,
                  "  the agent: %.3f cores (its node's pod cgroup), RSS median %.0f MiB, max %.0f"
                      + " MiB; container restarts so far %d%n",
                  (agent.cpuMs() - agentCpuFrom) / 1000.0 / seconds,
                  agentRss.isEmpty() ? Double.NaN : agentRss.get(agentRss.size() / 2) / 1024.0,
                  agentRss.isEmpty() ? Double.NaN : agentRss.get(agentRss.size() - 1) / 1024.0,
                  AgentNode.restarts(k)));
        }
        // As it goes: a later size that fails leaves this one's figures in the output.
        System.out.print(row + detail.substring(detailFrom));
      }
    } finally {
      endpoints.close();
      pods.close();
    }
    String text =
        report
            + "\nRequests by the operator's service account in each window (audit log):\n"
            + detail
            + "\n"
            + "("
            + Runtime.getRuntime().availableProcessors()
            + " cores; window "
            + window.toMinutes()
            + " min; operator JVM "
            + operatorJvm()
            + "; "
            + (agent == null
                ? "canned probe results"
                : "one resident agent on real node "
                    + REAL_NODE.name()
                    + ", probing "
                    + REAL_NODE.address()
                    + "; operator settings "
                    + new TreeMap<>(settings))
            + "; "
            + Instant.now()
            + ")\n";
    Files.writeString(out.resolve(prefix + ".md"), text);
    System.out.println(text);
  }

  private void createEndpoints(KubernetesClient k, List<String> namespaces, int from, int to)
      throws InterruptedException {
    // With the agent: the real node's own address, where nothing listens on the SMTP ports.
    String host = mode == ProbeMode.Agent ? REAL_NODE.address() : HOST;
    ExecutorService pool = Executors.newFixedThreadPool(4);
    long start = System.nanoTime();
    for (int i = from; i < to; i++) {
      // At most CREATE_PER_SECOND, as a kubectl apply or a GitOps sync of many files would go.
      long due = start + (i - from) * 1_000_000_000L / CREATE_PER_SECOND;
      LockSupport.parkNanos(due - System.nanoTime());
      String ns = namespaces.get(i % namespaces.size());
      String name = String.format(Locale.ROOT, "mail-%05d", i);
      pool.execute(
          () -> {
            SmtpEndpointSpec spec = new SmtpEndpointSpec();
            spec.host = host;
            spec.interval = "1m";
            if (mode == ProbeMode.Agent) {
              spec.probe = new ProbeSpec();
              spec.probe.mode = ProbeMode.Agent;
            }
            SmtpEndpoint ep = new SmtpEndpoint();
            ep.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
            ep.setSpec(spec);
            k.resources(SmtpEndpoint.class).inNamespace(ns).resource(ep).create();
          });
    }
    pool.shutdown();
    if (!pool.awaitTermination(30, TimeUnit.MINUTES)) {
      throw new IllegalStateException("creating endpoints took over 30 minutes");
    }
  }

  /**
   * Three process nodes whose probe image writes a canned result (the four default ports
   * Reachable), stamped with the time, one line per endpoint of the pod, compressed.
   */
  private static void startProcessNodes(LocalCluster cluster, Path out) throws IOException {
    Path canned = out.resolve("canned-result.json");
    Files.writeString(canned, cannedReport());
    ImageMap images =
        new ImageMap()
            .with(
                ImageMap.SMTP_REACH_IMAGE,
                // One canned line per endpoint of the pod (its arguments are split by "+"),
                // compressed as BatchCodec does, so that a full pod's fit in 4096 bytes.
                List.of(
                    "sh",
                    "-c",
                    "at=$(date -u +%Y-%m-%dT%H:%M:%SZ); { sed \"s/@AT@/$at/\" \"$0\"; for w in"
                        + " \"$@\"; do if [ \"$w\" = + ]; then sed \"s/@AT@/$at/\" \"$0\"; fi; done; }"
                        + " | gzip -9c | base64 -w0 | { printf z:; cat; } >"
                        + " \"$PROCESS_NODE_TERMINATION_MESSAGE_PATH\"",
                    canned.toString()),
                List.of());
    for (String zone : List.of("a", "b", "c")) {
      cluster.startNode(
          new ProcessNode.NodeConfig("node-" + zone, "zone-" + zone, "bench", null), images);
    }
  }

  /**
   * The operator's settings beyond its defaults: with the agent, agents on (OperatorProcess turns
   * them off for process nodes) with the image the real node has, and any {@code
   * SMTP_REACH_AGENTS_*} of this process's environment, named so that the report shows them.
   */
  private Map<String, String> operatorSettings() {
    Map<String, String> settings = new TreeMap<>();
    if (mode == ProbeMode.Agent) {
      System.getenv().entrySet().stream()
          .filter(e -> e.getKey().startsWith("SMTP_REACH_AGENTS_"))
          .forEach(e -> settings.put(e.getKey(), e.getValue()));
      settings.put("SMTP_REACH_AGENTS_ENABLED", "true");
      settings.put("SMTP_REACH_PROBE_IMAGE", IMAGE);
    }
    return settings;
  }

  /**
   * A report of the four default ports all reachable over TLS, with the phase timings and TLS facts
   * a real probe gives, so that the pods' rows count as many series as real results do; the command
   * stamps the time.
   */
  private static String cannedReport() {
    List<ProbeResult> results = new ArrayList<>();
    CertificateFacts certificate =
        new CertificateFacts(
            "CN=" + HOST,
            "CN=smtp-reach bench CA",
            List.of(HOST),
            Instant.parse("2026-01-01T00:00:00Z"),
            Instant.parse("2027-01-01T00:00:00Z"));
    for (ProbeTarget t : ProbeTarget.DEFAULTS) {
      ProbeResult.Builder b =
          ProbeResult.builder(HOST, t, IpFamily.ANY)
              .negotiated(t.mode())
              .tls(new TlsFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384", certificate));
      for (Phase phase : Phase.values()) {
        if (phase != Phase.AUTH) {
          b.timing(phase, Duration.ofMillis(3));
        }
      }
      results.add(b.build(Reason.OK, "canned"));
    }
    return ReportCodec.encode(new ProbeReport(HOST, false, Instant.EPOCH, results))
            .replace(Instant.EPOCH.toString(), "@AT@")
        + "\n";
  }

  /**
   * The operator as a Deployment runs it: restarted when it exits (it does when it loses its leader
   * Lease), its CPU time summed over the restarts.
   */
  private static final class Supervised implements AutoCloseable {
    private final Path kubeconfig;
    private final Map<String, String> settings;
    private final Path log;
    private OperatorProcess process;
    private long ticksOfEarlier;
    private long lastTicks;
    private int restarts;

    Supervised(Path kubeconfig, Map<String, String> settings, Path log) {
      this.kubeconfig = kubeconfig;
      this.settings = settings;
      this.log = log;
      this.process = start();
    }

    private OperatorProcess start() {
      // The chart's container: a 512 MiB limit, of which the launcher gives the heap 40%, and
      // fewer than two CPUs, where the JVM picks the serial collector.
      return OperatorProcess.start(kubeconfig, settings, log, List.of(operatorJvm().split(" ")));
    }

    /** Restarts the operator if it exited; always true (for Awaitility conditions). */
    synchronized boolean check() {
      if (process.isAlive()) {
        long ticks = OperatorScaleBench.cpuTicks(process.pid());
        lastTicks = ticks < 0 ? lastTicks : ticks;
        return true;
      }
      ticksOfEarlier += lastTicks;
      lastTicks = 0;
      restarts++;
      process = start();
      return true;
    }

    synchronized long cpuTicks() {
      check();
      return ticksOfEarlier + lastTicks;
    }

    @Override
    public void close() {
      process.close();
    }
  }

  private final class EndpointWatch implements ResourceEventHandler<SmtpEndpoint> {
    @Override
    public void onAdd(SmtpEndpoint ep) {
      onUpdate(null, ep);
    }

    @Override
    public void onUpdate(SmtpEndpoint before, SmtpEndpoint after) {
      Instant now = Instant.now();
      String key = key(after);
      if (after.getStatus() != null && after.getStatus().lastProbeTime != null) {
        firstStatus.putIfAbsent(key, now);
      }
      var was = before == null || before.getStatus() == null ? null : before.getStatus().round;
      var is = after.getStatus() == null ? null : after.getStatus().round;
      if (was != null && (is == null || !is.id.equals(was.id))) {
        roundsFinished.incrementAndGet();
        roundOutcomes.merge(outcome(after), 1L, Long::sum);
        // An agent round leaves nothing to watch between its start and its result.
        Instant done =
            mode == ProbeMode.Agent
                ? Instant.parse(was.startedAt)
                : podDone.remove(key + "/" + was.id);
        if (done != null) {
          latenciesMillis.add(Duration.between(done, now).toMillis());
        }
      }
    }

    @Override
    public void onDelete(SmtpEndpoint ep, boolean unknown) {}
  }

  private final class PodWatch implements ResourceEventHandler<Pod> {
    @Override
    public void onAdd(Pod pod) {
      onUpdate(null, pod);
    }

    @Override
    public void onUpdate(Pod before, Pod after) {
      String phase = after.getStatus() == null ? null : after.getStatus().getPhase();
      if ("Succeeded".equals(phase) || "Failed".equals(phase)) {
        Instant now = Instant.now();
        String ns = after.getMetadata().getNamespace();
        ProbePodReader.members(after)
            .forEach((name, round) -> podDone.putIfAbsent(ns + "/" + name + "/" + round, now));
      }
    }

    @Override
    public void onDelete(Pod pod, boolean unknown) {}
  }

  private static final Pattern AGENT_FAILURE = Pattern.compile("did not answer: ([A-Z_]+)");

  /**
   * How an endpoint's last round ended: its ProbesRunning reason; for AgentUnavailable, also why
   * (the agent's failure kind, or no ready agent).
   */
  private static String outcome(SmtpEndpoint ep) {
    return ep.getStatus().conditions.stream()
        .filter(c -> ConditionTypes.PROBES_RUNNING.equals(c.getType()))
        .findFirst()
        .map(
            c -> {
              if (!"AgentUnavailable".equals(c.getReason())) {
                return c.getReason();
              }
              String message = String.valueOf(c.getMessage());
              Matcher m = AGENT_FAILURE.matcher(message);
              return c.getReason()
                  + " ("
                  + (m.find()
                      ? m.group(1)
                      : message.contains("no ready probe agent") ? "no ready agent" : "other")
                  + ")";
            })
        .orElse("none");
  }

  /** Each port's entry per source in these statuses, by what probed it, state and reason. */
  private static Map<String, Long> portResults(List<SmtpEndpoint> endpoints) {
    Map<String, Long> counts = new TreeMap<>();
    for (SmtpEndpoint ep : endpoints) {
      if (ep.getStatus() == null) {
        continue;
      }
      for (PortStatus port : ep.getStatus().ports) {
        for (SourceStatus source : port.sources) {
          counts.merge(
              port.port + " via " + source.via + " " + source.state + "/" + source.reason,
              1L,
              Long::sum);
        }
      }
    }
    return counts;
  }

  private static String tally(Map<String, Long> counts) {
    return counts.isEmpty()
        ? "none"
        : new TreeMap<>(counts)
            .entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
  }

  private static String key(SmtpEndpoint ep) {
    return ep.getMetadata().getNamespace() + "/" + ep.getMetadata().getName();
  }

  private static final Pattern VERB = Pattern.compile("\"verb\":\"([a-z]+)\"");
  private static final Pattern RESOURCE = Pattern.compile("\"resource\":\"([a-z.]+)\"");
  private static final Pattern SUBRESOURCE = Pattern.compile("\"subresource\":\"([a-z]+)\"");

  /** Requests in the audit log after {@code offset}, by "verb resource[/subresource]". */
  private static Map<String, Long> countRequests(Path audit, long offset) throws IOException {
    Map<String, Long> counts = new TreeMap<>();
    try (var in = Files.newInputStream(audit)) {
      in.skipNBytes(offset);
      for (String line : new String(in.readAllBytes()).split("\n")) {
        if (line.isBlank() || !line.contains(OPERATOR_USER)) {
          continue;
        }
        Matcher verb = VERB.matcher(line);
        Matcher resource = RESOURCE.matcher(line);
        Matcher sub = SUBRESOURCE.matcher(line);
        String key =
            (verb.find() ? verb.group(1) : "?")
                + " "
                + (resource.find() ? resource.group(1) : "(non-resource)")
                + (sub.find() ? "/" + sub.group(1) : "");
        counts.merge(key, 1L, Long::sum);
      }
    }
    return counts;
  }

  private static long cpuTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (USER_HZ = 100)
    } catch (IOException e) {
      return -1; // it has just exited
    }
  }

  private static long rssKib(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
      return 0;
    } catch (IOException e) {
      return 0; // it has just exited
    }
  }

  private static long percentile(List<Long> sorted, int p) {
    return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
  }

  /** The operator's JVM options: the chart's heap and collector unless BENCH_OPERATOR_JVM says. */
  private static String operatorJvm() {
    return env("BENCH_OPERATOR_JVM", "-Xmx205m -XX:+UseSerialGC");
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
