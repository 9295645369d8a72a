package io.smtpreach.bench;

import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.smtpreach.agent.AgentClient;
import io.smtpreach.agent.AgentFailure;
import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.probe.BatchCodec;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Does a resident agent keep its size over many requests ({@code make bench-agent-soak})? Starts
 * {@code smtp-reach agent} in its own JVM with the agent launcher's flags (src/main/docker/agent,
 * without the image's archive), sends it {@code -Dagent.soak.requests} (default 28,800: a day of a
 * zone's agent probing 100 endpoints every minute, 144,000 endpoint-probes, compressed) signed
 * requests from 8 threads, each of four endpoints on a loopback fault server and one refused port,
 * and reports its RSS, heap after a full GC, threads and CPU after a warm-up, half way and at the
 * end: what stays flat from the middle on is kept, what grows is kept per request. It asserts only
 * that every request was answered; the figures are for docs/benchmarks.md.
 */
class AgentSoakBench {
  private static final byte[] KEY =
      "soak-bench-key-0123456789abcdefghijklmn".getBytes(StandardCharsets.UTF_8);
  private static final Pattern SERVING = Pattern.compile("serving on port (\\d+)");

  @TempDir Path tmp;

  record Sample(long rssKiB, long heapUsedKiB, int threads, Duration cpu) {
    @Override
    public String toString() {
      return String.format(
          "RSS %d KiB, heap after GC %d KiB, %d threads, CPU %d ms",
          rssKiB, heapUsedKiB, threads, cpu.toMillis());
    }
  }

  @Test
  void anAgentKeepsItsSizeOverManyRequests() throws Exception {
    int requests = Integer.getInteger("agent.soak.requests", 28_800);
    Path keyFile = tmp.resolve("key");
    Files.write(keyFile, KEY);
    Process agent =
        new ProcessBuilder(
                ProjectPaths.java(),
                "-XX:+UseSerialGC",
                "-XX:MaxRAMPercentage=50",
                "-Xss512k",
                "-XX:-UsePerfData",
                "-cp",
                ProjectPaths.classPath(),
                "io.smtpreach.cli.Main",
                "agent",
                "--listen",
                "0",
                "--key-file",
                keyFile.toString())
            .redirectOutput(tmp.resolve("out").toFile())
            .redirectError(tmp.resolve("err").toFile())
            .start();
    try (FaultServer smtp = FaultServer.start(FaultServer.smtp(plain()))) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> SERVING.matcher(Files.readString(tmp.resolve("out"))).find());
      Matcher m = SERVING.matcher(Files.readString(tmp.resolve("out")));
      assertThat(m.find()).isTrue();
      URI uri = URI.create("http://127.0.0.1:" + m.group(1));
      // A hundred endpoints, four of them and a refused port per request, in turn: each argument
      // list recurs as an endpoint's does every round.
      int port = smtp.port();
      List<String> refused = List.of("--port=" + closedPort() + ":none", "--", "127.0.0.1");
      IntFunction<List<List<String>>> request =
          n -> {
            List<List<String>> endpoints = new ArrayList<>();
            for (int e = 0; e < 4; e++) {
              String ehlo = "--ehlo=endpoint-" + ((4 * n + e) % 100) + ".soak.test";
              endpoints.add(List.of("--port=" + port + ":none", ehlo, "--", "127.0.0.1"));
            }
            endpoints.add(refused);
            return endpoints;
          };

      int warmUp = Math.min(1000, requests / 10);
      run(uri, request, warmUp);
      Sample before = sample(agent.pid());
      long start = System.nanoTime();
      int failed = run(uri, request, requests / 2);
      Sample half = sample(agent.pid());
      failed += run(uri, request, requests - requests / 2);
      Duration wall = Duration.ofNanos(System.nanoTime() - start);
      Sample after = sample(agent.pid());

      String report =
          String.format(
              "agent soak: %d requests of %d endpoints in %d s (%d failed)%n"
                  + "  after %d warm-up requests: %s%n"
                  + "  after %d more:             %s%n"
                  + "  after %d more:             %s%n"
                  + "  CPU per request: %.2f ms%n",
              requests,
              5,
              wall.toSeconds(),
              failed,
              warmUp,
              before,
              requests / 2,
              half,
              requests - requests / 2,
              after,
              (after.cpu().toNanos() - before.cpu().toNanos()) / 1e6 / requests);
      System.out.print(report);
      Files.writeString(
          ProjectPaths.root().resolve("target/agent-soak.txt"), report, StandardCharsets.UTF_8);
      assertThat(failed).as(report).isZero();
    } finally {
      agent.destroy();
      agent.waitFor(60, TimeUnit.SECONDS);
    }
  }

  /** Sends {@code count} requests from 8 threads; returns how many got no results. */
  private static int run(URI agent, IntFunction<List<List<String>>> request, int count)
      throws Exception {
    AgentClient client = new AgentClient(KEY);
    AtomicInteger left = new AtomicInteger(count);
    AtomicInteger failed = new AtomicInteger();
    ExecutorService senders = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        running.add(
            senders.submit(
                () -> {
                  int n;
                  while ((n = left.getAndDecrement()) > 0) {
                    List<List<String>> endpoints = request.apply(n);
                    try {
                      List<BatchCodec.Entry> entries =
                          client.probe(agent, endpoints, Instant.now().plusSeconds(30));
                      if (entries.size() != endpoints.size()) {
                        failed.incrementAndGet();
                      }
                    } catch (AgentFailure e) {
                      failed.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } finally {
      senders.shutdownNow();
    }
    return failed.get();
  }

  /**
   * The agent process's size, heap after a full GC, threads and CPU so far, from /proc and jcmd.
   */
  private static Sample sample(long pid) throws IOException {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    ProcessRunner.run(List.of(jcmd, Long.toString(pid), "GC.run"), 60);
    String heap = ProcessRunner.run(List.of(jcmd, Long.toString(pid), "GC.heap_info"), 60).output();
    long heapUsed = 0;
    Matcher used = Pattern.compile("used (\\d+)K").matcher(heap);
    while (used.find()) {
      heapUsed += Long.parseLong(used.group(1)); // young and old generations
    }
    String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
    String[] stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat")).split(" ");
    long ticks = Long.parseLong(stat[13]) + Long.parseLong(stat[14]); // utime + stime, 1/100 s
    return new Sample(
        field(status, "VmRSS"),
        heapUsed,
        (int) field(status, "Threads"),
        Duration.ofMillis(ticks * 10));
  }

  private static long field(String status, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + ":\\s+(\\d+)").matcher(status);
    if (!m.find()) {
      throw new IllegalStateException(name + " not in /proc/PID/status");
    }
    return Long.parseLong(m.group(1));
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
