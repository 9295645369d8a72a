package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.PostfixPeer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Against a real Postfix: 25 STARTTLS offered, 587/2525 STARTTLS required, 465 implicit TLS. */
@ExtendWith(PostfixPeer.class)
class PostfixProbeTest {
  private static final String HOST = PostfixPeer.HOST;

  private static ProbeOptions.Builder options(PostfixPeer.Instance peer) {
    return ProbeOptions.builder()
        .connectTimeout(Duration.ofSeconds(5))
        .readTimeout(Duration.ofSeconds(20))
        .timeout(Duration.ofSeconds(30))
        .caBundle(peer.caFile());
  }

  private static ProbeReport probe(ProbeOptions options, List<ProbeTarget> targets) {
    try (SmtpProber prober = new SmtpProber(options)) {
      return prober.probe(HOST, targets);
    }
  }

  private static ProbeResult probeOne(ProbeOptions options, String target) {
    return probe(options, List.of(ProbeTarget.parse(target))).results().get(0);
  }

  @Test
  void allFourPortsAreReachableInTheirModesAnd587IsRecommended(PostfixPeer.Instance peer) {
    ProbeReport report = probe(options(peer).build(), ProbeTarget.DEFAULTS);
    Map<Integer, ProbeResult> byPort =
        report.results().stream()
            .collect(Collectors.toMap(r -> r.target().port(), Function.identity()));

    assertThat(report.results())
        .allSatisfy(
            r -> assertThat(r.reason()).as(r.label() + ": " + r.message()).isEqualTo(Reason.OK));
    assertThat(byPort.get(587).negotiated()).isEqualTo(TlsMode.STARTTLS);
    assertThat(byPort.get(465).negotiated()).isEqualTo(TlsMode.IMPLICIT);
    assertThat(byPort.get(2525).negotiated()).isEqualTo(TlsMode.STARTTLS);
    assertThat(byPort.get(25).negotiated())
        .as("auto on 25 upgrades when STARTTLS is offered")
        .isEqualTo(TlsMode.STARTTLS);
    assertThat(report.recommended()).contains(new ProbeTarget(587, TlsMode.STARTTLS));
    assertThat(report.allAsExpected()).isTrue();
  }

  @Test
  void postfixDoesNotEchoTheClientAddressSoWhatItSawIsUnknown(PostfixPeer.Instance peer) {
    ProbeReport report = probe(options(peer).build(), List.of(ProbeTarget.parse("587:starttls")));
    assertThat(report.results().get(0).seenAddress()).isNull();
    assertThat(report.egress().seenBy()).isEqualTo(EgressFacts.SeenBy.LOCAL);
    assertThat(report.egress().address()).isEqualTo(report.egress().local()).isEqualTo(HOST);
    assertThat(report.egress().ptrConfirmed()).as("loopback: nothing to look up").isNull();
  }

  @Test
  void factsAreGatheredAlongTheWay(PostfixPeer.Instance peer) {
    ProbeResult r = probeOne(options(peer).build(), "587:starttls");
    assertThat(r.addresses()).containsExactly(HOST);
    assertThat(r.address()).isEqualTo(HOST);
    assertThat(r.greeting()).isEqualTo("220 smtp.test ESMTP Postfix");
    assertThat(r.capabilities()).contains("STARTTLS").noneMatch(c -> c.startsWith("AUTH"));
    assertThat(r.tlsCapabilities()).contains("AUTH PLAIN LOGIN").doesNotContain("STARTTLS");
    assertThat(r.authMechanisms()).containsExactly("PLAIN", "LOGIN");
    assertThat(r.tls().protocol()).isIn("TLSv1.3", "TLSv1.2");
    assertThat(r.tls().cipherSuite()).startsWith("TLS_");
    assertThat(r.tls().certificate().subjectAltNames()).contains("DNS:smtp.test", "IP:127.0.0.1");
    assertThat(r.tls().certificate().daysLeft(Instant.now())).isBetween(1L, 30L);
    assertThat(r.timings())
        .containsKeys(
            Phase.DNS,
            Phase.CONNECT,
            Phase.GREETING,
            Phase.EHLO,
            Phase.STARTTLS,
            Phase.TLS_HANDSHAKE,
            Phase.TOTAL);
  }

  @Test
  void startTlsOnTheImplicitTlsPortIsAModeMismatchNotATimeout(PostfixPeer.Instance peer) {
    ProbeOptions options = options(peer).build();
    ProbeResult r = probeOne(options, "465:starttls");
    assertThat(r.reason()).isEqualTo(Reason.TLS_ON_PLAINTEXT_PORT);
    assertThat(r.state()).isEqualTo(PortState.MODE_MISMATCH);
    assertThat(r.message()).contains("implicit TLS");
    // Decided by the TLS sniff, long before the 20s greeting deadline.
    assertThat(r.timing(Phase.TOTAL)).isLessThan(options.readTimeout());
  }

  @Test
  void implicitTlsOnTheSubmissionPortIsAModeMismatchWithTheGreeting(PostfixPeer.Instance peer) {
    ProbeOptions options = options(peer).build();
    ProbeResult r = probeOne(options, "587:implicit");
    assertThat(r.reason()).isEqualTo(Reason.PLAINTEXT_ON_TLS_PORT);
    assertThat(r.message()).contains("220 smtp.test ESMTP Postfix").contains("STARTTLS");
    assertThat(r.timing(Phase.TOTAL)).isLessThan(options.readTimeout());
  }

  @Test
  void plaintextModeStaysPlaintextAndShowsThatStartTlsIsOffered(PostfixPeer.Instance peer) {
    ProbeResult r = probeOne(options(peer).build(), "25:none");
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.negotiated()).isEqualTo(TlsMode.NONE);
    assertThat(r.tls()).isNull();
    assertThat(r.capabilities()).contains("STARTTLS");
  }

  @Test
  void theAuthCheckSucceedsWithTheRightPasswordOnBothSubmissionPorts(PostfixPeer.Instance peer) {
    ProbeOptions options =
        options(peer).credentials(new Credentials(PostfixPeer.USER, PostfixPeer.PASSWORD)).build();
    ProbeReport report =
        probe(options, List.of(ProbeTarget.parse("587"), ProbeTarget.parse("465")));
    assertThat(report.results())
        .allSatisfy(
            r -> {
              assertThat(r.reason()).as(r.message()).isEqualTo(Reason.OK);
              assertThat(r.authenticated()).isTrue();
              assertThat(r.timings()).containsKey(Phase.AUTH);
            });
  }

  @Test
  void aWrongPasswordIsAuthFailedAndThePasswordIsNeverInTheResult(PostfixPeer.Instance peer) {
    String password = "wrong-secret-7f3a";
    ProbeOptions options =
        options(peer).credentials(new Credentials(PostfixPeer.USER, password)).build();
    ProbeResult r = probeOne(options, "587");
    assertThat(r.reason()).isEqualTo(Reason.AUTH_FAILED);
    assertThat(r.authenticated()).isFalse();
    assertThat(r.message()).contains("535");
    assertThat(ReportCodec.encode(new ProbeReport(HOST, false, Instant.now(), List.of(r))))
        .doesNotContain(password);
    assertThat(r.toString()).doesNotContain(password);
  }

  @Test
  void credentialsAreNotCheckedOnTheRelayPort(PostfixPeer.Instance peer) {
    ProbeOptions options =
        options(peer).credentials(new Credentials(PostfixPeer.USER, PostfixPeer.PASSWORD)).build();
    ProbeResult r = probeOne(options, "25:auto");
    assertThat(r.reason()).as(r.message()).isEqualTo(Reason.OK);
    assertThat(r.negotiated()).isEqualTo(TlsMode.STARTTLS);
    assertThat(r.authenticated()).isNull();
    assertThat(r.message()).contains("AUTH not checked on the relay port");
  }

  @Test
  void credentialsAreNeverSentOverPlaintext(PostfixPeer.Instance peer) {
    ProbeOptions options =
        options(peer).credentials(new Credentials(PostfixPeer.USER, PostfixPeer.PASSWORD)).build();
    ProbeResult r = probeOne(options, "25:none");
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.authenticated()).isNull();
    assertThat(r.message()).contains("credentials not sent over plaintext");
  }

  @Test
  void withoutTheTestCaTheCertificateIsUntrustedButDescribed(PostfixPeer.Instance peer) {
    ProbeResult r = probeOne(options(peer).caBundle(null).build(), "465");
    assertThat(r.reason()).isEqualTo(Reason.CERT_UNTRUSTED);
    assertThat(r.tls().certificate().subject()).contains("smtp.test");
    assertThat(r.greeting()).isEqualTo("220 smtp.test ESMTP Postfix");
  }

  @Test
  void aServerNameTheCertificateDoesNotCoverIsAHostnameMismatch(PostfixPeer.Instance peer) {
    ProbeResult r = probeOne(options(peer).serverName("mail.example.org").build(), "587");
    assertThat(r.reason()).isEqualTo(Reason.CERT_HOSTNAME_MISMATCH);
    assertThat(r.message()).contains("mail.example.org");
  }

  @Test
  void aClosedPortIsRefused(PostfixPeer.Instance peer) {
    ProbeResult r = probeOne(options(peer).build(), "2526");
    assertThat(r.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
    assertThat(r.state()).isEqualTo(PortState.REFUSED);
    assertThat(r.state().isBlocked()).isTrue();
  }
}
