package io.smtpreach.probe;

import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.FaultServer.Behaviour;
import io.smtpreach.peers.FaultServer.SmtpScript;
import io.smtpreach.peers.FaultServer.Step;
import io.smtpreach.peers.TestCertificates;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every port's dialogue ends by its deadline ({@code --timeout}) plus {@link Deadline#SLACK},
 * whatever the server does: a reply sent a byte at a time in any step, a reply that never ends, a
 * TLS handshake that never completes, a server that stops reading, a DNS server that never answers.
 * Each read is shorter than the read timeout, so only the deadline can end them.
 */
@Timeout(20) // should the deadline break, the test fails instead of hanging the build
class DeadlineProbeTest {
  private static final String NAME = "fault.test";
  private static final TestCertificates CA = TestCertificates.newCa("smtp-reach deadline CA");
  private static final Duration TIMEOUT = Duration.ofSeconds(2);
  private static final Duration READ_TIMEOUT = Duration.ofSeconds(1);

  /**
   * A byte this often keeps every read under the read timeout, and the greeting's first byte comes
   * before the TLS sniff delay (so no second connection is opened to ask for TLS).
   */
  private static final Duration DRIP = Duration.ofMillis(300);

  @TempDir static Path tmp;
  private static Path caFile;

  @BeforeAll
  static void writeCa() throws Exception {
    caFile = tmp.resolve("ca.pem");
    CA.writeCaPem(caFile);
  }

  private static ProbeOptions.Builder options() {
    return ProbeOptions.builder()
        .connectTimeout(Duration.ofSeconds(1))
        .readTimeout(READ_TIMEOUT)
        .timeout(TIMEOUT)
        .tlsSniffDelay(Duration.ofMillis(500))
        .serverName(NAME)
        .caBundle(caFile);
  }

  private record Timed(ProbeResult result, Duration elapsed) {}

  private static Timed probe(Behaviour behaviour, TlsMode mode, ProbeOptions options)
      throws Exception {
    try (FaultServer server = FaultServer.start(behaviour);
        SmtpProber prober = new SmtpProber(options)) {
      long t = System.nanoTime();
      ProbeResult r =
          prober.probe("127.0.0.1", List.of(new ProbeTarget(server.port(), mode))).results().get(0);
      return new Timed(r, Duration.ofNanos(System.nanoTime() - t));
    }
  }

  private static Timed probe(Behaviour behaviour, TlsMode mode) throws Exception {
    return probe(behaviour, mode, options().build());
  }

  private static void endsByTheDeadline(Timed t) {
    assertThat(t.elapsed()).as(t.result().message()).isLessThan(TIMEOUT.plus(Deadline.SLACK));
  }

  private static void isCutByTheDeadline(Timed t, Reason reason, String step) {
    endsByTheDeadline(t);
    assertThat(t.result().reason()).as(t.result().message()).isEqualTo(reason);
    assertThat(t.result().message()).contains(step).contains("by the 2s deadline");
  }

  private static SmtpScript startTls() {
    return plain()
        .capabilities("STARTTLS", "AUTH PLAIN")
        .startTls("220 2.0.0 go ahead", CA.issue(NAME, List.of(NAME), 30).serverContext());
  }

  @Test
  void aGreetingSentAByteAtATimeIsCutAtTheDeadline() throws Exception {
    Timed t = probe(FaultServer.smtp(plain().drips(Step.GREETING, DRIP)), TlsMode.STARTTLS);
    isCutByTheDeadline(t, Reason.NO_GREETING, "greeting");
  }

  @Test
  void aByteJustInsideTheReadTimeoutForeverIsCutAtTheDeadline() throws Exception {
    Timed t =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("X" + "x".repeat(1000))
                    .drips(Step.EHLO, Duration.ofMillis(900))),
            TlsMode.NONE);
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "EHLO");
  }

  @Test
  void anEndlessMultiLineReplyWithinEveryBoundIsCutAtTheDeadline() throws Exception {
    Timed t =
        probe(
            FaultServer.smtp(
                plain()
                    .greeting("220-x\r\n".repeat(SmtpReplyReader.MAX_LINES - 1) + "220 x")
                    .drips(Step.GREETING, Duration.ofMillis(50))),
            TlsMode.NONE);
    isCutByTheDeadline(t, Reason.NO_GREETING, "greeting");
  }

  @Test
  void anEhloReplySentAByteAtATimeIsCutAtTheDeadline() throws Exception {
    Timed t = probe(FaultServer.smtp(plain().drips(Step.EHLO, DRIP)), TlsMode.STARTTLS);
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "EHLO");
  }

  @Test
  void aStartTlsReplySentAByteAtATimeIsCutAtTheDeadline() throws Exception {
    Timed t = probe(FaultServer.smtp(startTls().drips(Step.STARTTLS, DRIP)), TlsMode.STARTTLS);
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "STARTTLS");
  }

  @Test
  void aTlsHandshakeAfterStartTlsSentAByteAtATimeIsCutAtTheDeadline() throws Exception {
    Timed t = probe(FaultServer.smtp(startTls().drips(Step.TLS_HANDSHAKE, DRIP)), TlsMode.STARTTLS);
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "TLS handshake");
  }

  @Test
  void anImplicitTlsHandshakeSentAByteAtATimeIsCutAtTheDeadline() throws Exception {
    Timed t = probe(FaultServer.dripsTlsHandshake(DRIP), TlsMode.IMPLICIT);
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "TLS handshake");
  }

  @Test
  void anAuthReplySentAByteAtATimeIsCutAtTheDeadline() throws Exception {
    Timed t =
        probe(
            FaultServer.smtp(startTls().drips(Step.AUTH, DRIP)),
            TlsMode.STARTTLS,
            options().credentials(new Credentials("alice", "s3cret")).build());
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "AUTH");
  }

  @Test
  void aQuitReplySentAByteAtATimeEndsByTheDeadlineAndKeepsTheVerdict() throws Exception {
    Timed t = probe(FaultServer.smtp(startTls().drips(Step.QUIT, DRIP)), TlsMode.STARTTLS);
    endsByTheDeadline(t);
    assertThat(t.result().reason()).as(t.result().message()).isEqualTo(Reason.OK);
  }

  @Test
  void aServerThatStopsReadingCannotBlockAWriteBeyondTheDeadline() throws Exception {
    // More than the kernel buffers on both ends hold: the write blocks (a TCP window of zero).
    String name = "x".repeat(16 * 1024 * 1024);
    Timed t =
        probe(
            FaultServer.greetsThenStopsReading(Duration.ofSeconds(30)),
            TlsMode.NONE,
            options().ehloName(name).build());
    isCutByTheDeadline(t, Reason.READ_TIMEOUT, "EHLO");
    assertThat(t.result().message()).contains("stopped reading");
  }

  @Test
  void aDnsServerThatNeverAnswersIsCutAtTheDeadline() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        SmtpProber prober =
            new SmtpProber(
                options()
                    .dnsTimeout(Duration.ofSeconds(30))
                    .dnsServer(new InetSocketAddress("127.0.0.1", silent.getLocalPort()))
                    .build())) {
      long start = System.nanoTime();
      ProbeReport report = prober.probe("smtp.example.test", List.of(ProbeTarget.parse("587")));
      Timed t = new Timed(report.results().get(0), Duration.ofNanos(System.nanoTime() - start));
      isCutByTheDeadline(t, Reason.DNS_TIMEOUT, "DNS lookup of smtp.example.test");
    }
  }
}
