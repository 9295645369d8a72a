package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class BatchCodecTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:15:30Z");
  private static final int LIMIT = ReportCodec.TERMINATION_MESSAGE_LIMIT;

  /** Four ports of one server; {@code filler} makes servers differ (random: incompressible). */
  private static ProbeReport fourPorts(String filler) {
    return new ProbeReport(
        "smtp.example.com",
        false,
        AT,
        List.of(
            ReportCodecTest.reachable(587, TlsMode.STARTTLS, filler),
            ReportCodecTest.reachable(465, TlsMode.IMPLICIT, filler),
            ReportCodecTest.reachable(2525, TlsMode.STARTTLS, filler),
            ReportCodecTest.reachable(25, TlsMode.STARTTLS, filler)));
  }

  /** Eight four-port reports of servers that differ by {@code bytes} random bytes each. */
  private static List<BatchCodec.Entry> eightServers(long seed, int bytes) {
    Random random = new Random(seed);
    List<BatchCodec.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      entries.add(BatchCodec.Entry.probed(fourPorts(random(random, bytes))));
    }
    return entries;
  }

  private static String random(Random random, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  @Test
  void oneEndpointLeavesExactlyTheReportOfTheProbeCommand() throws Exception {
    ProbeReport report = fourPorts("");
    String message = BatchCodec.encode(List.of(BatchCodec.Entry.probed(report)), LIMIT);

    assertThat(message).isEqualTo(ReportCodec.encode(report));
    assertThat(BatchCodec.decode(message)).containsExactly(BatchCodec.Entry.probed(report));
  }

  @Test
  void eightServersKeepEveryFactByCompressing() throws Exception {
    List<BatchCodec.Entry> entries = eightServers(7, 6);
    String message = BatchCodec.encode(entries, LIMIT);

    assertThat(message).startsWith(BatchCodec.COMPRESSED);
    assertThat(message.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(LIMIT);
    assertThat(BatchCodec.decode(message)).isEqualTo(entries);
  }

  @Test
  void anEndpointThatCouldNotBeProbedKeepsItsPlaceAndItsReason() throws Exception {
    List<BatchCodec.Entry> entries =
        List.of(
            BatchCodec.Entry.probed(fourPorts("")),
            BatchCodec.Entry.failed("unknown option: '--bogus'"),
            BatchCodec.Entry.probed(fourPorts("x")));

    List<BatchCodec.Entry> decoded = BatchCodec.decode(BatchCodec.encode(entries, LIMIT));

    assertThat(decoded).hasSize(3);
    assertThat(decoded.get(1).report()).isNull();
    assertThat(decoded.get(1).error()).isEqualTo("unknown option: '--bogus'");
    assertThat(decoded.get(2).report()).isEqualTo(fourPorts("x"));
  }

  /**
   * Twelve endpoints of different servers (smtp-reach.probe-batch-size's default): greetings and
   * capabilities may go, never what the status and metrics show of a port.
   */
  @Test
  void twelveDifferentServersKeepEverythingTheStatusShows() throws Exception {
    Random random = new Random(12);
    List<BatchCodec.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      entries.add(BatchCodec.Entry.probed(server(random)));
    }
    String message = BatchCodec.encode(entries, LIMIT);

    assertThat(message.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(LIMIT);
    List<BatchCodec.Entry> decoded = BatchCodec.decode(message);
    assertThat(decoded).hasSize(12);
    for (int i = 0; i < 12; i++) {
      assertThat(decoded.get(i).report().results())
          .extracting(BatchCodecTest::shownInStatus)
          .containsExactlyElementsOf(
              entries.get(i).report().results().stream()
                  .map(BatchCodecTest::shownInStatus)
                  .toList());
    }
  }

  /** What StatusAggregator and EndpointMetrics take from a result. */
  private static List<Object> shownInStatus(ProbeResult r) {
    CertificateFacts c = r.tls().certificate();
    return List.of(
        r.target(),
        r.reason(),
        r.message(),
        r.negotiated(),
        r.address(),
        r.timings(),
        r.authMechanisms(),
        r.tls().protocol(),
        r.tls().cipherSuite(),
        c.subject(),
        c.issuer(),
        c.notAfter());
  }

  /** A server of its own: name, addresses, greeting, certificate and timings all differ. */
  private static ProbeReport server(Random random) {
    String domain =
        List.of("example.com", "corp.example.net", "example.org").get(random.nextInt(3));
    String host = "smtp" + random.nextInt(1000) + "." + domain;
    String issuer =
        List.of("CN=R11,O=Let's Encrypt,C=US", "CN=Amazon RSA 2048 M02,O=Amazon,C=US")
            .get(random.nextInt(2));
    List<ProbeResult> results = new ArrayList<>();
    for (ProbeTarget target :
        List.of(
            new ProbeTarget(587, TlsMode.STARTTLS),
            new ProbeTarget(465, TlsMode.IMPLICIT),
            new ProbeTarget(2525, TlsMode.STARTTLS),
            new ProbeTarget(25, TlsMode.STARTTLS))) {
      ProbeResult.Builder b =
          ProbeResult.builder(host, target, IpFamily.ANY)
              .addresses(
                  List.of("192.0.2." + random.nextInt(256), "2001:db8::" + random.nextInt(65536)))
              .address("192.0.2." + random.nextInt(256))
              .negotiated(target.mode())
              .greeting("220 " + host + " ESMTP " + Long.toHexString(random.nextLong()))
              .capabilities(
                  List.of(
                      host,
                      "PIPELINING",
                      "SIZE " + random.nextInt(100_000_000),
                      "STARTTLS",
                      "8BITMIME"))
              .tlsCapabilities(List.of(host, "PIPELINING", "AUTH PLAIN LOGIN", "8BITMIME"))
              .authMechanisms(List.of("PLAIN", "LOGIN"))
              .tls(
                  new TlsFacts(
                      "TLSv1.3",
                      "TLS_AES_256_GCM_SHA384",
                      new CertificateFacts(
                          "CN=" + host,
                          issuer,
                          List.of("DNS:" + host, "DNS:*." + domain),
                          AT.minusSeconds(86_400L * random.nextInt(60)),
                          AT.plusSeconds(86_400L * random.nextInt(90)))));
      for (Phase phase : Phase.values()) {
        if (phase != Phase.AUTH) {
          b.timing(phase, Duration.ofMillis(random.nextInt(300)));
        }
      }
      results.add(
          b.build(Reason.OK, "STARTTLS, TLSv1.3, cert " + host + " by " + issuer + ", AUTH PLAIN"));
    }
    return new ProbeReport(host, false, AT, results);
  }

  @Test
  void whenNothingElseFitsEveryPortKeepsItsStateAndReason() throws Exception {
    List<BatchCodec.Entry> entries = eightServers(11, 200);
    String message = BatchCodec.encode(entries, LIMIT);

    assertThat(message.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(LIMIT);
    List<BatchCodec.Entry> decoded = BatchCodec.decode(message);
    assertThat(decoded).hasSize(8);
    for (BatchCodec.Entry e : decoded) {
      assertThat(e.report().results())
          .extracting(r -> r.target().port() + " " + r.reason())
          .containsExactly("587 OK", "465 OK", "2525 OK", "25 OK");
    }
  }

  @Test
  void refusesWhatIsNotAResult() throws Exception {
    assertThatThrownBy(() -> BatchCodec.decode("z:not base64!"))
        .isInstanceOf(MalformedReportException.class)
        .hasMessageContaining("base64");
    assertThatThrownBy(() -> BatchCodec.decode("z:" + Base64.getEncoder().encodeToString(bomb())))
        .isInstanceOf(MalformedReportException.class)
        .hasMessageContaining("inflates beyond");
    assertThatThrownBy(() -> BatchCodec.decode(ReportCodec.encode(fourPorts("")) + "\n{\"v\":2}"))
        .isInstanceOf(MalformedReportException.class)
        .hasMessageContaining("version");
  }

  /** A few KB of gzip that inflate to 1 MB. */
  private static byte[] bomb() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(new byte[1024 * 1024]);
    }
    return out.toByteArray();
  }
}
