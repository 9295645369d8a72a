package io.smtpreach.cluster;

import io.smtpreach.peers.LoopbackHttp;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * The operator as its users run it: the packaged application ({@code
 * target/quarkus-app/quarkus-run.jar}) in a process of its own, talking to the API server with a
 * kubeconfig (in tests, its ServiceAccount's, so it has exactly its generated RBAC), serving health
 * and metrics on a free port. It can be stopped, killed mid-round and started again.
 */
public final class OperatorProcess implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  private OperatorProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** The packaged operator; {@code mvn verify} builds it before the integration tests run. */
  public static Path jar() {
    return ProjectPaths.root().resolve("target/quarkus-app/quarkus-run.jar");
  }

  public static void requireJar() {
    Requirements.require(
        Files.isRegularFile(jar()),
        "the operator is not packaged (" + jar() + "): run the integration tests with mvn verify");
  }

  /**
   * Starts the operator and waits until it is ready (its controller started and the informers
   * synced); its output goes to {@code log} (appended, so restarts share one file).
   */
  public static OperatorProcess start(Path kubeconfig, Map<String, String> settings, Path log) {
    return start(kubeconfig, settings, log, List.of("-Xmx256m"));
  }

  /** The same, with these JVM options instead of the tests' small heap. */
  public static OperatorProcess start(
      Path kubeconfig, Map<String, String> settings, Path log, List<String> jvmOptions) {
    return start(kubeconfig, settings, log, jvmOptions, true);
  }

  /**
   * The same; with {@code awaitReady} false it waits only until the process is live, as a replica
   * that waits on the leader-election Lease is.
   */
  public static OperatorProcess start(
      Path kubeconfig,
      Map<String, String> settings,
      Path log,
      List<String> jvmOptions,
      boolean awaitReady) {
    requireJar();
    int port = freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(ProjectPaths.java());
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-Dquarkus.http.port=" + port, "-jar", jar().toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    // Process nodes run pods as this machine's processes, one address for all: no room for
    // resident agents, so endpoints are probed by pods here unless a test turns agents on.
    pb.environment().put("SMTP_REACH_AGENTS_ENABLED", "false");
    pb.environment().putAll(settings);
    try {
      Files.createDirectories(log.getParent());
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      OperatorProcess op = new OperatorProcess(pb.start(), port, log);
      Awaitility.await("operator ready on port " + port)
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                if (!op.process.isAlive()) {
                  throw new IllegalStateException(
                      "the operator exited with " + op.process.exitValue() + ":\n" + op.log());
                }
                return op.get(awaitReady ? "/q/health/ready" : "/q/health/live").startsWith("200 ");
              });
      return op;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The Prometheus exposition, as Prometheus would scrape it. */
  public String metrics() {
    String r = get("/q/metrics");
    if (!r.startsWith("200 ")) {
      throw new IllegalStateException("GET /q/metrics: " + r);
    }
    return r.substring(4);
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Everything the operator logged so far. */
  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGKILL: the operator dies wherever it is, as on a node failure. */
  public void kill() {
    process.destroyForcibly();
    waitFor();
  }

  /** SIGTERM, as a Deployment rollout does. */
  @Override
  public void close() {
    process.destroy();
    if (!waitFor()) {
      kill();
    }
  }

  private boolean waitFor() {
    try {
      return process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private String get(String path) {
    return LoopbackHttp.get(port, path);
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
