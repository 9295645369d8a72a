package io.smtpreach.bench;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.TlsMode;
import io.smtpreach.api.TlsSpec;
import io.smtpreach.cluster.ImageMap;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.OperatorProcess;
import io.smtpreach.cluster.ProcessNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.metrics.EndpointMetrics;
import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.PrometheusServer;
import io.smtpreach.reconciler.EndpointSteps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How long after a node starts dropping 587 the operator says so: the {@code PortBlocked} Event,
 * {@code smtp_reach_port_up} going to 0 on the operator's /q/metrics and in a real Prometheus, and
 * SmtpSubmissionPortBlocked firing there (the shipped rules with {@code for: 0s}). First with the
 * interval alone, the drop put in at evenly spread points of the interval (and the rounds started
 * at evenly spread points of the scrape interval); then with the probe-now annotation set right
 * after the drop, put in at evenly spread points of the scrape interval.
 *
 * <p>A benchmark, not a test: it asserts nothing about time. It prints medians and writes {@code
 * target/bench/detection.md}. Neither surefire's nor failsafe's default includes match its name;
 * {@code make bench-detection} runs it, {@code BENCH_RUNS} runs per variant (default 5).
 */
@WithLocalCluster
@ExtendWith(PostfixPeer.class)
class DetectionLatencyBench {
  private static final int SUBNET = 95;
  private static final String NAME = "submission";
  private static final Duration INTERVAL = Duration.ofSeconds(30); // the CRD's minimum
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration SCRAPE = Duration.ofSeconds(5);
  private static final Duration EVALUATION = Duration.ofSeconds(5);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final List<String> DROP_587 =
      List.of("OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
  private static final Path REPORT = ProjectPaths.root().resolve("target/bench/detection.md");

  /** What the benchmark times, from the drop. */
  enum Signal {
    EVENT("(a) `PortBlocked` Event (watch)", "Event"),
    OPERATOR_METRIC("(b) `smtp_reach_port_up` 0 on /q/metrics", "/q/metrics"),
    PROMETHEUS_METRIC("(b) `smtp_reach_port_up` 0 in Prometheus", "Prometheus"),
    ALERT("(c) `SmtpSubmissionPortBlocked` firing", "alert");

    final String label;
    final String shortLabel;

    Signal(String label, String shortLabel) {
      this.label = label;
      this.shortLabel = shortLabel;
    }
  }

  /** What starts the round that sees the drop. */
  enum Variant {
    INTERVAL("interval"),
    PROBE_NOW("probe-now");

    final String label;

    Variant(String label) {
      this.label = label;
    }
  }

  /**
   * One drop: how far after a round's start (interval) or a scrape (probe-now) it came, each
   * signal's latency, and the port's state and reason afterwards.
   */
  record Run(
      Variant variant, int index, Duration phase, Map<Signal, Duration> latency, String verdict) {}

  private static NetworkNamespace node;
  private static OperatorProcess operator;
  private static PrometheusServer prometheus;
  private static EndpointSteps steps;
  private static LocalCluster cluster;

  /** The clock of the run in progress, for the Event watch; null between runs. */
  private final AtomicReference<SignalClock<Signal>> current = new AtomicReference<>();

  @BeforeAll
  static void start(LocalCluster c, PostfixPeer.Instance peer) throws IOException {
    cluster = c;
    NetworkNamespace.requireSupport();
    PrometheusServer.requireSupport();
    OperatorProcess.requireJar();
    node = NetworkNamespace.create(SUBNET);
    cluster.startNode(
        new ProcessNode.NodeConfig("node-b", "zone-b", "open", node), ImageMap.standard());
    Path kubeconfig = OperatorInstall.install(cluster);
    Path work = ProjectPaths.root().resolve("target/bench/detection");
    operator =
        OperatorProcess.start(
            kubeconfig,
            Map.of("SMTP_REACH_POD_START_TIMEOUT", "10s"),
            work.resolve("operator.log"));
    String rules = PrometheusServer.shippedRulesFiringAtOnce();
    prometheus =
        PrometheusServer.start(
            work.resolve("prometheus"),
            "smtp-reach",
            "127.0.0.1:" + operator.port(),
            rules,
            SCRAPE,
            EVALUATION);
    steps = new EndpointSteps(cluster.client(), peer.caFile());
    Awaitility.setDefaultPollInterval(Duration.ofMillis(200));
    Awaitility.setDefaultTimeout(Duration.ofMinutes(3));
  }

  @AfterAll
  static void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
    if (operator != null) {
      operator.close();
    }
    if (node != null) {
      node.close();
    }
    Awaitility.reset();
  }

  @Test
  void detectionLatency(@TestNamespace String ns) throws IOException {
    int runs = Integer.parseInt(System.getenv().getOrDefault("BENCH_RUNS", "5"));
    steps.create(ns, NAME, spec());
    steps.awaitRound(ns, NAME, null);
    awaitReachable(ns);

    List<Run> results = new ArrayList<>();
    try (Watch events = watchPortBlocked(ns)) {
      for (Variant v : Variant.values()) {
        for (int i = 0; i < runs; i++) {
          results.add(measure(ns, v, i, runs));
          recover(ns);
        }
      }
    }

    String report =
        DetectionReport.render(
            new DetectionReport.Settings(
                INTERVAL, CONNECT_TIMEOUT, SCRAPE, EVALUATION, POLL, runs, machine()),
            results);
    System.out.println(report);
    Files.createDirectories(REPORT.getParent());
    Files.writeString(REPORT, report);
  }

  /** 587/StartTLS of the test Postfix every 30 s, probed from node-b (through its namespace). */
  private static SmtpEndpointSpec spec() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = node.hostAddress();
    spec.interval = INTERVAL.toSeconds() + "s";
    spec.connectTimeout = CONNECT_TIMEOUT.toSeconds() + "s";
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.tls = new TlsSpec();
    spec.tls.serverName = "smtp.test";
    spec.tls.caBundle = new CaBundleSource();
    spec.tls.caBundle.configMapKeyRef = new ConfigMapKeySelector("ca.pem", "smtp-ca", false);
    spec.probe = new ProbeSpec();
    spec.probe.nodeSelector = Map.of("kubernetes.io/hostname", "node-b");
    return spec;
  }

  /** Drops 587 and times every signal; with probe-now, the annotation is set just after. */
  private Run measure(String ns, Variant variant, int index, int runs) {
    double fraction = (index + 0.5) / runs;
    Duration phase =
        switch (variant) {
          case INTERVAL -> {
            anchorRounds(ns, fraction);
            yield awaitIntervalPoint(ns, fraction);
          }
          case PROBE_NOW -> awaitScrapePoint(fraction);
        };
    node.iptables(withAction("-I"));
    try (SignalClock<Signal> clock = new SignalClock<>(Instant.now())) {
      current.set(clock);
      clock.poll(Signal.OPERATOR_METRIC, POLL, () -> operatorPortUp(ns) == 0);
      clock.poll(Signal.PROMETHEUS_METRIC, POLL, () -> prometheusPortUp(ns, 0));
      clock.poll(Signal.ALERT, POLL, () -> alertFiring(ns));
      if (variant == Variant.PROBE_NOW) {
        steps.requestProbeNow(ns, NAME);
      }
      List<Signal> all = List.of(Signal.values());
      try {
        await().pollInterval(POLL).until(() -> clock.sawAll(all));
      } catch (ConditionTimeoutException e) {
        throw new AssertionError(
            variant.label + " run " + (index + 1) + " still waits for " + clock.pending(all), e);
      }
      current.set(null);
      Map<Signal, Duration> latency = new EnumMap<>(Signal.class);
      all.forEach(s -> latency.put(s, clock.latency(s).orElseThrow()));
      return new Run(variant, index, phase, latency, verdict587(ns));
    }
  }

  /**
   * Starts a round (probe-now) at {@code fraction} of the scrape interval after a scrape, so that
   * the interval's rounds follow from there: the interval is a multiple of the scrape interval, so
   * otherwise every run would see its change at the same point of Prometheus's cycle (each run's
   * rounds follow from the recovery before it, which ends on a rule evaluation).
   */
  private static void anchorRounds(String ns, double fraction) {
    awaitScrapePoint(fraction);
    steps.probeNow(ns, NAME);
  }

  /**
   * Waits until {@code fraction} of the interval has passed since a round started (the next round,
   * when that point of the current one is already gone, or it is still running) and returns how far
   * in it is. The round's start is read from status ({@code nextProbeTime} less the interval), to
   * the second.
   */
  private static Duration awaitIntervalPoint(String ns, double fraction) {
    Duration offset = Duration.ofMillis(Math.round(INTERVAL.toMillis() * fraction));
    while (true) {
      SmtpEndpointStatus s = steps.get(ns, NAME).getStatus();
      Instant roundStart = Instant.parse(s.nextProbeTime).minus(INTERVAL);
      Instant at = roundStart.plus(offset);
      if (EndpointSteps.idle(s) && at.isAfter(Instant.now().plusMillis(200))) {
        await("the drop's point in the interval")
            .pollInterval(Duration.ofMillis(10))
            .until(() -> !Instant.now().isBefore(at));
        return Duration.between(roundStart, Instant.now());
      }
      steps.awaitRound(ns, NAME, s.lastProbeTime);
    }
  }

  /**
   * Waits until {@code fraction} of the scrape interval has passed since a scrape and returns how
   * far in it is: probe-now runs would otherwise all start on the same point of Prometheus's tick
   * (each follows the recovery of the one before, which ends on a rule evaluation).
   */
  private static Duration awaitScrapePoint(double fraction) {
    Duration offset = Duration.ofMillis(Math.round(SCRAPE.toMillis() * fraction));
    Instant scrape = prometheus.lastScrape();
    while (scrape.plus(offset).isBefore(Instant.now().plusMillis(50))) {
      scrape = scrape.plus(SCRAPE);
    }
    Instant at = scrape.plus(offset);
    await("the drop's point in the scrape interval")
        .pollInterval(Duration.ofMillis(10))
        .until(() -> !Instant.now().isBefore(at));
    return Duration.between(scrape, Instant.now());
  }

  /** Opens 587 again, probes now, and waits until the operator and Prometheus say Reachable. */
  private void recover(String ns) {
    node.iptables(withAction("-D"));
    steps.probeNow(ns, NAME);
    awaitReachable(ns);
  }

  private static void awaitReachable(String ns) {
    await("587 Reachable on /q/metrics and in Prometheus, no alert")
        .until(() -> operatorPortUp(ns) == 1 && prometheusPortUp(ns, 1) && !alertFiring(ns));
  }

  /** Every PortBlocked Event for 587 created in the namespace marks the run in progress. */
  private Watch watchPortBlocked(String ns) {
    Set<String> seen = ConcurrentHashMap.newKeySet();
    return cluster
        .client()
        .v1()
        .events()
        .inNamespace(ns)
        .watch(
            new Watcher<Event>() {
              @Override
              public void eventReceived(Action action, Event e) {
                SignalClock<Signal> clock = current.get();
                if (action == Action.ADDED
                    && "PortBlocked".equals(e.getReason())
                    && e.getMessage() != null
                    && e.getMessage().startsWith("587/")
                    && seen.add(e.getMetadata().getUid())
                    && clock != null) {
                  clock.mark(Signal.EVENT);
                }
              }

              @Override
              public void onClose(WatcherException cause) {
                System.err.println("event watch closed: " + cause);
              }
            });
  }

  /** The 587 gauge as the operator serves it, or -1 while it has none. */
  private static double operatorPortUp(String ns) {
    String prefix = EndpointMetrics.PORT_UP + "{";
    return operator
        .metrics()
        .lines()
        .filter(l -> l.startsWith(prefix))
        .filter(l -> l.contains("namespace=\"" + ns + "\"") && l.contains("port=\"587\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElse(-1);
  }

  private static boolean prometheusPortUp(String ns, int value) {
    return !prometheus
        .query(
            "%s{namespace=\"%s\", endpoint=\"%s\", port=\"587\"} == %d"
                .formatted(EndpointMetrics.PORT_UP, ns, NAME, value))
        .isEmpty();
  }

  private static boolean alertFiring(String ns) {
    for (JsonNode a : prometheus.alerts()) {
      if ("SmtpSubmissionPortBlocked".equals(a.at("/labels/alertname").asText())
          && ns.equals(a.at("/labels/namespace").asText())
          && "firing".equals(a.path("state").asText())) {
        return true;
      }
    }
    return false;
  }

  private static String verdict587(String ns) {
    for (PortStatus p : steps.get(ns, NAME).getStatus().ports) {
      if (p.port == 587) {
        return p.state + "/" + p.reason;
      }
    }
    return "absent";
  }

  private static String[] withAction(String action) {
    List<String> rule = new ArrayList<>(List.of(action));
    rule.addAll(DROP_587);
    return rule.toArray(String[]::new);
  }

  /** Cores, JVM, Prometheus version and date, for the report's heading. */
  private static String machine() {
    String version =
        ProcessRunner.run(List.of("prometheus", "--version"), 30)
            .output()
            .lines()
            .findFirst()
            .map(l -> l.replaceAll("^prometheus, version (\\S+).*", "$1"))
            .orElse("?");
    return "%d cores, Java %s, Prometheus %s, %s"
        .formatted(
            Runtime.getRuntime().availableProcessors(),
            System.getProperty("java.version"),
            version,
            LocalDate.now());
  }
}
