package io.smtpreach.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * Debian's real Alertmanager on a free loopback port, without clustering, with the configuration it
 * is given: usually {@link #shippedExampleSendingTo}, the project's example with every receiver
 * sent to a test's {@link WebhookReceiver}.
 */
public final class AlertmanagerServer implements AutoCloseable {
  public static final Path EXAMPLE =
      ProjectPaths.root().resolve("deploy/alertmanager/alertmanager-example.yaml");

  /** Debian's name for the alertmanager binary. */
  private static final String BINARY = "prometheus-alertmanager";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final YAMLMapper YAML = new YAMLMapper();

  private final Process process;
  private final int port;
  private final Path dir;

  private AlertmanagerServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  public static void requireSupport() {
    Requirements.require(
        Requirements.onPath(BINARY) && Requirements.onPath("amtool"),
        "Alertmanager is not installed (apt-get install prometheus-alertmanager)");
  }

  /**
   * deploy/alertmanager/alertmanager-example.yaml with its routes and inhibition rules as shipped,
   * every receiver's integrations replaced by one webhook to {@code url} (resolved notifications
   * too), and every route's group_wait, group_interval and repeat_interval set to the given ones,
   * so that a test need not wait out production's.
   */
  public static String shippedExampleSendingTo(
      String url, Duration groupWait, Duration groupInterval, Duration repeatInterval)
      throws IOException {
    ObjectNode config = (ObjectNode) YAML.readTree(EXAMPLE.toFile());
    for (JsonNode r : config.get("receivers")) {
      ObjectNode receiver = (ObjectNode) r;
      receiver.retain("name");
      receiver.putArray("webhook_configs").addObject().put("url", url).put("send_resolved", true);
    }
    timings(
        (ObjectNode) config.get("route"),
        groupWait.toMillis() + "ms",
        groupInterval.toMillis() + "ms",
        repeatInterval.toMillis() + "ms");
    return YAML.writeValueAsString(config);
  }

  private static void timings(ObjectNode route, String wait, String interval, String repeat) {
    route.put("group_wait", wait).put("group_interval", interval).put("repeat_interval", repeat);
    for (JsonNode child : route.path("routes")) {
      timings((ObjectNode) child, wait, interval, repeat);
    }
  }

  /** Starts Alertmanager in {@code dir} with {@code config} (file contents). */
  public static AlertmanagerServer start(Path dir, String config) {
    requireSupport();
    try {
      Files.createDirectories(dir);
      Path file = Files.writeString(dir.resolve("alertmanager.yml"), config);
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Process p =
          new ProcessBuilder(
                  BINARY,
                  "--config.file=" + file,
                  "--storage.path=" + dir.resolve("data"),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--cluster.listen-address=",
                  "--log.level=warn")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("alertmanager.log").toFile())
              .start();
      AlertmanagerServer server = new AlertmanagerServer(p, port, dir);
      Awaitility.await("Alertmanager ready")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> LoopbackHttp.get(port, "/-/ready").startsWith("200"));
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** host:port, for Prometheus's alerting configuration. */
  public String address() {
    return "127.0.0.1:" + port;
  }

  /** Posts alerts as Prometheus does (API v2), each a map of its labels and annotations. */
  public void post(List<JsonNode> alerts) {
    try {
      String r = LoopbackHttp.post(port, "/api/v2/alerts", JSON.writeValueAsString(alerts));
      if (!r.startsWith("200")) {
        throw new AssertionError("Alertmanager refused the alerts: " + r);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("alertmanager.log"));
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
}
