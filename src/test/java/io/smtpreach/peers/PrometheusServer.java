package io.smtpreach.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * Debian's real Prometheus on a free loopback port, scraping one target (every second unless told
 * otherwise) and evaluating the given rule files, with its HTTP API for queries and alerts.
 *
 * <p>It scrapes the target as Prometheus Operator scrapes the chart's ServiceMonitor
 * (deploy/prometheus/smtp-reach-servicemonitor.yaml): the same relabelling adds the target labels
 * namespace (the operator's), service, pod, container, job (from the ServiceMonitor's jobLabel) and
 * endpoint (the port's name), and honor_labels is what the ServiceMonitor says. So the series a
 * test queries are labelled as in a kube-prometheus-stack cluster, and a label collision with them
 * shows here. The Kubernetes service discovery is replaced by a static target that carries the
 * {@code __meta_kubernetes_*} labels discovery would give the operator's pod.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SERVICE_MONITOR =
      ProjectPaths.root().resolve("deploy/prometheus/smtp-reach-servicemonitor.yaml");

  /** Where the scraped operator would run: the chart's default namespace, one pod of it. */
  public static final String OPERATOR_NAMESPACE = "smtp-reach-system";

  public static final String OPERATOR_POD = "smtp-reach-5d8f7c6b9-x2k4q";

  private final Process process;
  private final int port;
  private final Path dir;

  private PrometheusServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  public static void requireSupport() {
    Requirements.require(
        Requirements.onPath("prometheus"),
        "Prometheus is not installed (apt-get install prometheus)");
  }

  /**
   * The project's alerting rules (deploy/prometheus) with every {@code for:} at 0s, so that an
   * alert fires as soon as its expression holds and a test need not wait out the shipped durations.
   */
  public static String shippedRulesFiringAtOnce() throws IOException {
    return firingAtOnce(
        Files.readString(ProjectPaths.root().resolve("deploy/prometheus/smtp-reach-rules.yaml")));
  }

  /** Rule files (name to contents) with every {@code for:} set to 0s. */
  public static Map<String, String> firingAtOnce(Map<String, String> ruleFiles) {
    Map<String, String> out = new java.util.TreeMap<>();
    ruleFiles.forEach((name, rules) -> out.put(name, firingAtOnce(rules)));
    return out;
  }

  private static String firingAtOnce(String rules) {
    return rules.replaceAll("(?m)^(\\s+)for: \\S+$", "$1for: 0s");
  }

  /**
   * Every query of the shipped Grafana dashboard, its variables set to {@code namespace}, job
   * smtp-reach, any cluster and any endpoint.
   */
  public static List<String> dashboardQueries(String namespace) throws IOException {
    List<String> exprs = new java.util.ArrayList<>();
    Path dashboard = ProjectPaths.root().resolve("deploy/grafana/smtp-reach.json");
    for (JsonNode panel : JSON.readTree(dashboard.toFile()).get("panels")) {
      panel.path("targets").forEach(t -> exprs.add(t.get("expr").asText()));
    }
    return exprs.stream()
        .map(
            e ->
                e.replace("$cluster", ".*")
                    .replace("$job", "smtp-reach")
                    .replace("$namespace", namespace)
                    .replace("$endpoint", ".*")
                    .replace("$__rate_interval", "1m"))
        .toList();
  }

  /**
   * Starts Prometheus in {@code dir}, scraping {@code target} (host:port) as the ServiceMonitor
   * scrapes the operator's Service, whose {@code app.kubernetes.io/name} label (the job) is {@code
   * job}, with {@code rules} (file contents) loaded; scrapes and evaluates every second.
   */
  public static PrometheusServer start(Path dir, String job, String target, String rules) {
    return start(dir, job, target, rules, Duration.ofSeconds(1), Duration.ofSeconds(1));
  }

  /** As {@link #start(Path, String, String, String)}, with the given scrape and rule intervals. */
  public static PrometheusServer start(
      Path dir,
      String job,
      String target,
      String rules,
      Duration scrapeInterval,
      Duration evaluationInterval) {
    return start(dir, job, target, rules, scrapeInterval, evaluationInterval, null);
  }

  /**
   * As {@link #start(Path, String, String, String, Duration, Duration)}, sending its alerts to the
   * Alertmanager at {@code alertmanager} (host:port; none when null).
   */
  public static PrometheusServer start(
      Path dir,
      String job,
      String target,
      String rules,
      Duration scrapeInterval,
      Duration evaluationInterval,
      String alertmanager) {
    requireSupport();
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("rules.yaml"), rules);
      Files.writeString(
          dir.resolve("prometheus.yml"),
          config(job, target, scrapeInterval, evaluationInterval, alertmanager));
      return launch(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts Prometheus in {@code dir} with {@code config} as given (prometheus-operator's, say) and
   * {@code ruleFiles} (name to contents) written to {@code dir/rules}, where the configuration's
   * {@code rule_files} must look.
   */
  public static PrometheusServer start(Path dir, String config, Map<String, String> ruleFiles) {
    requireSupport();
    try {
      Files.createDirectories(dir.resolve("rules"));
      for (var f : ruleFiles.entrySet()) {
        Files.writeString(
            dir.resolve("rules").resolve(Path.of(f.getKey()).getFileName()), f.getValue());
      }
      Files.writeString(dir.resolve("prometheus.yml"), config);
      return launch(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static PrometheusServer launch(Path dir) {
    try {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Process p =
          new ProcessBuilder(
                  "prometheus",
                  "--config.file=" + dir.resolve("prometheus.yml"),
                  "--storage.tsdb.path=" + dir.resolve("data"),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--log.level=warn")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("prometheus.log").toFile())
              .start();
      PrometheusServer server = new PrometheusServer(p, port, dir);
      Awaitility.await("Prometheus ready")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> server.get("/-/ready").startsWith("200"));
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * prometheus.yml: the intervals, rules.yaml beside it, the ServiceMonitor's scrape, and the
   * Alertmanager at {@code alertmanager} if not null.
   */
  static String config(
      String job,
      String target,
      Duration scrapeInterval,
      Duration evaluationInterval,
      String alertmanager)
      throws IOException {
    String alerting =
        alertmanager == null
            ? ""
            : """
            alerting:
              alertmanagers:
                - static_configs:
                    - targets: ['%s']
            """
                .formatted(alertmanager);
    return """
        global:
          scrape_interval: %dms
          evaluation_interval: %dms
        rule_files: [rules.yaml]
        %sscrape_configs:
        %s"""
        .formatted(
            scrapeInterval.toMillis(),
            evaluationInterval.toMillis(),
            alerting,
            serviceMonitorScrape(job, target).indent(2));
  }

  /**
   * The scrape config Prometheus Operator generates for the first endpoint of the chart's
   * ServiceMonitor (its generateServiceMonitorConfig: the selector, port, target-label and job
   * relabellings, in its order), for a Service named and labelled {@code job} in {@link
   * #OPERATOR_NAMESPACE} whose endpoints are the pod {@link #OPERATOR_POD} at {@code target}.
   */
  static String serviceMonitorScrape(String job, String target) throws IOException {
    JsonNode monitor = new YAMLMapper().readTree(SERVICE_MONITOR.toFile()).get("spec");
    JsonNode endpoint = monitor.at("/endpoints/0");
    String port = endpoint.get("port").asText();
    String jobLabel =
        "__meta_kubernetes_service_label_" + sanitize(monitor.get("jobLabel").asText());
    return """
        - job_name: serviceMonitor/%1$s/%2$s/0
          honor_labels: %3$s
          metrics_path: %4$s
          static_configs:
            - targets: ['%5$s']
              labels:
                __meta_kubernetes_namespace: %1$s
                __meta_kubernetes_service_name: %2$s
                %6$s: %2$s
                __meta_kubernetes_endpoint_port_name: %7$s
                __meta_kubernetes_endpoint_address_target_kind: Pod
                __meta_kubernetes_endpoint_address_target_name: %8$s
                __meta_kubernetes_pod_name: %8$s
                __meta_kubernetes_pod_container_name: smtp-reach
          relabel_configs:
            - {source_labels: [job], target_label: __tmp_prometheus_job_name}
            - {source_labels: [%6$s], regex: '(%2$s)', action: keep}
            - {source_labels: [__meta_kubernetes_endpoint_port_name], regex: '%7$s', action: keep}
            - source_labels: [__meta_kubernetes_endpoint_address_target_kind, __meta_kubernetes_endpoint_address_target_name]
              regex: 'Pod;(.*)'
              target_label: pod
            - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
            - {source_labels: [__meta_kubernetes_service_name], target_label: service}
            - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
            - {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
            - {source_labels: [__meta_kubernetes_service_name], target_label: job, replacement: '${1}'}
            - {source_labels: [%6$s], regex: '(.+)', target_label: job, replacement: '${1}'}
            - {target_label: endpoint, replacement: '%7$s'}
        """
        .formatted(
            OPERATOR_NAMESPACE,
            job,
            endpoint.path("honorLabels").asBoolean(false),
            endpoint.path("path").asText("/metrics"),
            target,
            jobLabel,
            port,
            OPERATOR_POD);
  }

  private static String sanitize(String labelName) {
    return labelName.replaceAll("[^a-zA-Z0-9_]", "_");
  }

  /** The result vector of an instant query; fails when Prometheus refuses the expression. */
  public JsonNode query(String promql) {
    String r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    JsonNode body = parse(r);
    if (!"success".equals(body.path("status").asText())) {
      throw new AssertionError("query " + promql + " failed: " + r);
    }
    return body.at("/data/result");
  }

  /** Every alert Prometheus holds now, pending or firing. */
  public List<JsonNode> alerts() {
    JsonNode body = parse(get("/api/v1/alerts"));
    List<JsonNode> out = new java.util.ArrayList<>();
    body.at("/data/alerts").forEach(out::add);
    return out;
  }

  /**
   * When the last scrape of the first active target started (Prometheus scrapes on a fixed tick).
   */
  public Instant lastScrape() {
    JsonNode body = parse(get("/api/v1/targets"));
    return OffsetDateTime.parse(body.at("/data/activeTargets/0/lastScrape").asText()).toInstant();
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("prometheus.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static JsonNode parse(String response) {
    try {
      return JSON.readTree(response.substring(response.indexOf(' ') + 1));
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + response, e);
    }
  }

  private String get(String path) {
    return LoopbackHttp.get(port, path);
  }
}
