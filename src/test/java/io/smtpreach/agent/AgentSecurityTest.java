package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.KEY;
import static io.smtpreach.agent.AgentFixture.OTHER_KEY;
import static io.smtpreach.agent.AgentFixture.args;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.smtpreach.probe.BatchCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only the operator can make an agent probe, and the operator believes only the agent's answers:
 * requests without the key, or stale, are refused with 401 and nothing else; answers changed,
 * forged or replayed on the way are bad answers.
 */
class AgentSecurityTest {
  @TempDir Path tmp;
  private List<String> refusedPort;

  @BeforeEach
  void aPortThatAnswersAtOnce() throws IOException {
    refusedPort = args("--port=" + AgentFixture.closedPort() + ":none", "--", "127.0.0.1");
  }

  @Test
  void aClientWithAnotherKeyIsUnauthorized() throws Exception {
    try (AgentFixture fixture = AgentFixture.start()) {
      AgentClient stranger = new AgentClient(OTHER_KEY);

      assertFailure(
          () -> stranger.probe(fixture.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.UNAUTHORIZED);
    }
  }

  @Test
  void aStaleOrFutureTimestampIsUnauthorizedLikeABadSignature() throws Exception {
    try (AgentFixture fixture = AgentFixture.start()) {
      for (Duration skew : List.of(Duration.ofMinutes(-5), Duration.ofMinutes(5))) {
        AgentClient skewed =
            new AgentClient(AgentKeys.of(KEY), Clock.offset(Clock.systemUTC(), skew));
        assertFailure(
            () -> skewed.probe(fixture.uri(), List.of(refusedPort), soon().plus(skew)),
            AgentFailure.Kind.UNAUTHORIZED);
      }
    }
  }

  @Test
  void unsignedPartlySignedOrAlteredRequestsGet401AndNoDetail() throws Exception {
    try (AgentFixture fixture = AgentFixture.start()) {
      byte[] body = AgentFixture.body(Duration.ofSeconds(10), refusedPort);
      String[] signed = AgentFixture.signed(KEY, body, Instant.now());
      byte[] altered = AgentFixture.body(Duration.ofSeconds(10), args("--", "10.0.0.1"));

      List<HttpResponse<String>> refused =
          List.of(
              fixture.post(ProbeAgent.PROBE_PATH, body),
              fixture.post(ProbeAgent.PROBE_PATH, body, signed[0], signed[1]),
              fixture.post(ProbeAgent.PROBE_PATH, body, signed[2], signed[3]),
              fixture.post(ProbeAgent.PROBE_PATH, altered, signed),
              fixture.post(
                  ProbeAgent.PROBE_PATH,
                  body,
                  signed[0],
                  signed[1],
                  signed[2],
                  signed[3].substring(1) + "A"),
              fixture.post(
                  ProbeAgent.PROBE_PATH,
                  body,
                  AgentFixture.signed(KEY, body, Instant.now().minusSeconds(120))));

      assertThat(refused)
          .allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(401))
          .allSatisfy(r -> assertThat(r.body()).isEmpty());
      assertThat(fixture.post(ProbeAgent.PROBE_PATH, body, signed).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aRotatedKeyFileIsReadWithoutARestartAndBothKeysWorkDuringTheRotation() throws Exception {
    Path file = tmp.resolve("agent-key");
    String old = new String(KEY, StandardCharsets.UTF_8);
    String next = new String(OTHER_KEY, StandardCharsets.UTF_8);
    Files.writeString(file, old + "\n");
    AgentClient oldClient = new AgentClient(KEY);
    AgentClient nextClient = new AgentClient(OTHER_KEY);
    try (AgentFixture fixture =
        AgentFixture.start(AgentLimits.defaults(), AgentKeys.fromFile(file, Duration.ZERO))) {
      assertThat(oldClient.probe(fixture.uri(), List.of(refusedPort), soon())).hasSize(1);
      assertFailure(
          () -> nextClient.probe(fixture.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.UNAUTHORIZED);

      Files.writeString(file, next + "\n" + old + "\n");
      assertThat(oldClient.probe(fixture.uri(), List.of(refusedPort), soon())).hasSize(1);
      assertThat(nextClient.probe(fixture.uri(), List.of(refusedPort), soon())).hasSize(1);

      Files.writeString(file, next + "\n");
      assertFailure(
          () -> oldClient.probe(fixture.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.UNAUTHORIZED);
      assertThat(nextClient.probe(fixture.uri(), List.of(refusedPort), soon())).hasSize(1);
    }
  }

  @Test
  void anAnswerChangedOnTheWayIsABadAnswer() throws Exception {
    try (AgentFixture fixture = AgentFixture.start();
        Forwarder mitm =
            new Forwarder(fixture.uri(), body -> body.replace("127.0.0.1", "127.0.0.2"))) {
      assertFailure(
          () -> fixture.client.probe(mitm.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.BAD_ANSWER);
    }
  }

  @Test
  void anEarlierAnswerReplayedForAnotherRequestIsABadAnswer() throws Exception {
    try (AgentFixture fixture = AgentFixture.start();
        Forwarder recorder = new Forwarder(fixture.uri(), body -> body)) {
      assertThat(fixture.client.probe(recorder.uri(), List.of(refusedPort), soon())).hasSize(1);
      Answer recorded = recorder.last.get();

      try (FakeAgent replayer = new FakeAgent((timestamp, signature, body) -> recorded)) {
        assertFailure(
            () -> fixture.client.probe(replayer.uri(), List.of(refusedPort), soon()),
            AgentFailure.Kind.BAD_ANSWER);
      }
    }
  }

  @Test
  void anUnsignedOversizedOrMisshapenAnswerIsABadAnswer() throws Exception {
    byte[] line =
        (BatchCodec.encode(List.of(BatchCodec.Entry.failed("x")), 4096) + "\n")
            .getBytes(StandardCharsets.UTF_8);
    // Unsigned.
    try (FakeAgent fake = new FakeAgent((timestamp, sig, body) -> new Answer(line, null))) {
      assertFailure(
          () -> new AgentClient(KEY).probe(fake.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.BAD_ANSWER);
    }
    // Signed with the key, but two lines for one endpoint.
    byte[] two =
        (new String(line, StandardCharsets.UTF_8).repeat(2)).getBytes(StandardCharsets.UTF_8);
    try (FakeAgent fake =
        new FakeAgent(
            (timestamp, sig, body) -> new Answer(two, AgentSignature.answer(KEY, sig, 200, two)))) {
      assertFailure(
          () -> new AgentClient(KEY).probe(fake.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.BAD_ANSWER);
    }
    // Signed, one line, but not a result.
    byte[] junk = "{\"v\":1}\n".getBytes(StandardCharsets.UTF_8);
    try (FakeAgent fake =
        new FakeAgent(
            (timestamp, sig, body) ->
                new Answer(junk, AgentSignature.answer(KEY, sig, 200, junk)))) {
      assertFailure(
          () -> new AgentClient(KEY).probe(fake.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.BAD_ANSWER);
    }
    // Far larger than one endpoint's result may be.
    byte[] huge = new byte[1 << 20];
    try (FakeAgent fake = new FakeAgent((timestamp, sig, body) -> new Answer(huge, "x"))) {
      assertFailure(
          () -> new AgentClient(KEY).probe(fake.uri(), List.of(refusedPort), soon()),
          AgentFailure.Kind.BAD_ANSWER);
    }
  }

  static Instant soon() {
    return Instant.now().plusSeconds(20);
  }

  interface Call {
    Object run() throws Exception;
  }

  static void assertFailure(Call call, AgentFailure.Kind kind) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(AgentFailure.class, f -> assertThat(f.kind()).isEqualTo(kind));
  }

  record Answer(byte[] body, String signature) {}

  interface Answering {
    Answer answer(String timestamp, String signature, byte[] body) throws Exception;
  }

  /** An HTTP server posing as an agent on loopback, answering 200 as a test says. */
  static class FakeAgent implements AutoCloseable {
    final HttpServer server;

    FakeAgent(Answering answering) throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext(
          "/",
          exchange -> {
            try (exchange) {
              byte[] body = exchange.getRequestBody().readAllBytes();
              Answer a =
                  answering.answer(
                      exchange.getRequestHeaders().getFirst(AgentSignature.TIMESTAMP_HEADER),
                      exchange.getRequestHeaders().getFirst(AgentSignature.SIGNATURE_HEADER),
                      body);
              if (a.signature() != null) {
                exchange.getResponseHeaders().set(AgentSignature.SIGNATURE_HEADER, a.signature());
              }
              exchange.sendResponseHeaders(200, a.body().length);
              try (OutputStream out = exchange.getResponseBody()) {
                out.write(a.body());
              }
            } catch (IOException e) {
              throw e;
            } catch (Exception e) {
              throw new IOException(e);
            }
          });
      server.start();
    }

    URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** A man in the middle: passes requests to the agent, and its answers back rewritten. */
  static final class Forwarder extends FakeAgent {
    final AtomicReference<Answer> last;

    Forwarder(URI agent, UnaryOperator<String> rewrite) throws IOException {
      this(agent, rewrite, new AtomicReference<>());
    }

    private Forwarder(URI agent, UnaryOperator<String> rewrite, AtomicReference<Answer> last)
        throws IOException {
      super(
          (timestamp, signature, body) -> {
            HttpResponse<String> r =
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(agent.resolve(ProbeAgent.PROBE_PATH))
                            .header(AgentSignature.TIMESTAMP_HEADER, timestamp)
                            .header(AgentSignature.SIGNATURE_HEADER, signature)
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
            Answer answer =
                new Answer(
                    rewrite.apply(r.body()).getBytes(StandardCharsets.UTF_8),
                    r.headers().firstValue(AgentSignature.SIGNATURE_HEADER).orElse(null));
            last.set(answer);
            return answer;
          });
      this.last = last;
    }
  }
}
