package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.KEY;
import static io.smtpreach.agent.AgentFixture.args;
import static io.smtpreach.agent.AgentSecurityTest.assertFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.probe.BatchCodec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code smtp-reach agent} as the agent pods run it, in its own JVM: it serves until SIGTERM, then
 * takes nothing new, answers what it took on, and exits.
 */
class AgentCommandTest {
  private static final Pattern SERVING = Pattern.compile("serving on port (\\d+)");

  @TempDir Path tmp;
  private Process process;

  @AfterEach
  void stop() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  private Process agent(String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProjectPaths.java(),
                "-cp",
                ProjectPaths.classPath(),
                "io.smtpreach.cli.Main",
                "agent"));
    cmd.addAll(List.of(args));
    process =
        new ProcessBuilder(cmd)
            .redirectOutput(tmp.resolve("out").toFile())
            .redirectError(tmp.resolve("err").toFile())
            .start();
    return process;
  }

  private String out() throws Exception {
    return Files.readString(tmp.resolve("out"));
  }

  @Test
  void itServesUntilSigtermThenFinishesWhatItTookOnAndExits() throws Exception {
    Path keyFile = tmp.resolve("key");
    Files.writeString(keyFile, new String(KEY, StandardCharsets.UTF_8) + "\n");
    DialogueCounter counter = new DialogueCounter();
    try (FaultServer tarpit = FaultServer.start(counter.around(FaultServer.silent()))) {
      Process p = agent("--listen", "0", "--key-file", keyFile.toString(), "--max-concurrent", "2");
      await().atMost(Duration.ofSeconds(30)).until(() -> SERVING.matcher(out()).find());
      Matcher m = SERVING.matcher(out());
      assertThat(m.find()).isTrue();
      URI agent = URI.create("http://127.0.0.1:" + m.group(1));
      assertThat(status(agent, ProbeAgent.HEALTH_PATH)).isEqualTo(200);
      assertThat(status(agent, ProbeAgent.READY_PATH)).isEqualTo(200);

      AgentClient client = new AgentClient(KEY);
      List<String> held =
          args("--port=" + tarpit.port() + ":none", "--timeout=3s", "--", "127.0.0.1");
      CompletableFuture<List<BatchCodec.Entry>> inFlight =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return client.probe(agent, List.of(held), Instant.now().plusSeconds(30));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      await().atMost(Duration.ofSeconds(10)).until(() -> counter.accepted.get() >= 1);

      p.destroy(); // SIGTERM
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(() -> status(agent, ProbeAgent.READY_PATH) == 503);
      assertFailure(
          () -> client.probe(agent, List.of(held), Instant.now().plusSeconds(10)),
          AgentFailure.Kind.BUSY);

      assertThat(inFlight.get(30, TimeUnit.SECONDS))
          .singleElement()
          .satisfies(e -> assertThat(e.report()).as(String.valueOf(e.error())).isNotNull());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
    }
  }

  @Test
  void anAgentWithoutAUsableKeyFileDoesNotStart() throws Exception {
    Path shortKey = tmp.resolve("short");
    Files.writeString(shortKey, "too-short\n");
    for (Path keyFile : List.of(shortKey, tmp.resolve("absent"))) {
      Process p = agent("--listen", "0", "--key-file", keyFile.toString());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(2);
      assertThat(Files.readString(tmp.resolve("err"))).contains("cannot read key file");
    }
  }

  private static int status(URI agent, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(agent.resolve(path)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }
}
