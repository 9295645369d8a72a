package io.smtpreach.agent;

import io.smtpreach.cli.EndpointProbe;
import io.smtpreach.probe.BatchCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * A probe agent on a loopback port with the real engine (the probe command's agent reading), a
 * client holding its key, and raw HTTP for the requests no client would send. Every test's servers
 * are on loopback too, and every DNS question goes to a closed loopback port: nothing leaves the
 * machine.
 */
final class AgentFixture implements AutoCloseable {
  static final byte[] KEY =
      "agent-test-key-0123456789abcdefghijkl".getBytes(StandardCharsets.UTF_8);
  static final byte[] OTHER_KEY =
      "another-key-0123456789abcdefghijklmnop".getBytes(StandardCharsets.UTF_8);

  final ProbeAgent agent;
  final AgentClient client;
  private final HttpClient raw =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private AgentFixture(ProbeAgent agent) {
    this.agent = agent;
    this.client = new AgentClient(KEY);
  }

  static AgentFixture start() throws IOException {
    return start(AgentLimits.defaults());
  }

  static AgentFixture start(AgentLimits limits) throws IOException {
    return start(limits, AgentKeys.of(KEY));
  }

  static AgentFixture start(AgentLimits limits, AgentKeys keys) throws IOException {
    return new AgentFixture(
        ProbeAgent.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            keys,
            EndpointProbe::forAgent,
            limits,
            Clock.systemUTC()));
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + agent.address().getPort());
  }

  /** Each endpoint's results, asked with {@code within} to spare. */
  List<BatchCodec.Entry> probe(Duration within, List<String>... endpoints)
      throws AgentFailure, InterruptedException {
    return client.probe(uri(), Arrays.asList(endpoints), Instant.now().plus(within));
  }

  /** A request as the client would sign it, sent with whatever headers a test gives. */
  HttpResponse<String> post(String path, byte[] body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri().resolve(path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return raw.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws Exception {
    return raw.send(
        HttpRequest.newBuilder(uri().resolve(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The headers that sign {@code body} with {@code key} at {@code at}. */
  static String[] signed(byte[] key, byte[] body, Instant at) {
    long ts = at.getEpochSecond();
    return new String[] {
      AgentSignature.TIMESTAMP_HEADER,
      Long.toString(ts),
      AgentSignature.SIGNATURE_HEADER,
      AgentSignature.request(key, "POST", ProbeAgent.PROBE_PATH, ts, body)
    };
  }

  /** A request body for these endpoints, due {@code within} from now. */
  static byte[] body(Duration within, List<String>... endpoints) {
    return new ProbeRequest(Instant.now().plus(within), Arrays.asList(endpoints)).encode();
  }

  static List<String> args(String... words) {
    return List.of(words);
  }

  /** A DNS server nobody answers at: names stay unresolved, and no query leaves the machine. */
  static String quietDns() throws IOException {
    return "--dns-server=127.0.0.1:" + closedPort();
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    agent.close();
  }
}
