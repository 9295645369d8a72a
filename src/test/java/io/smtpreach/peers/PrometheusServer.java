package io.smtpreach.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * Debian's real Prometheus on a free loopback port, scraping one target (every second unless told
 * otherwise) and evaluating the given rule files, with its HTTP API for queries and alerts.
 */
public final class PrometheusServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

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
    return Files.readString(ProjectPaths.root().resolve("deploy/prometheus/smtp-reach-rules.yaml"))
        .replaceAll("(?m)^(\\s+)for: \\S+$", "$1for: 0s");
  }

  /**
   * Starts Prometheus in {@code dir}, scraping {@code target} (host:port, path /q/metrics) as job
   * {@code job}, with {@code rules} (file contents) loaded; scrapes and evaluates every second.
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
    requireSupport();
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("rules.yaml"), rules);
      Files.writeString(
          dir.resolve("prometheus.yml"),
          """
          global:
            scrape_interval: %dms
            evaluation_interval: %dms
          rule_files: [rules.yaml]
          scrape_configs:
            - job_name: %s
              metrics_path: /q/metrics
              static_configs:
                - targets: ['%s']
          """
              .formatted(scrapeInterval.toMillis(), evaluationInterval.toMillis(), job, target));
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
