package io.smtpreach.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.Expectation;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsFacts;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code --output nagios} as a Nagios admin reads it: the worst port decides the status, each
 * port's state and reason is on the status line, perfdata follows the plugin API's syntax.
 */
class NagiosRendererTest {
  private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
  private final NagiosRenderer nagios = new NagiosRenderer(NOW, 14);

  private static final ProbeTarget SUBMISSION =
      new ProbeTarget(587, TlsMode.STARTTLS, Expectation.REACHABLE);
  private static final ProbeTarget SUBMISSIONS =
      new ProbeTarget(465, TlsMode.IMPLICIT, Expectation.REACHABLE);
  private static final ProbeTarget RELAY = new ProbeTarget(25, TlsMode.AUTO, Expectation.ANY);

  private static ProbeResult reachable(ProbeTarget target, int certDaysLeft) {
    return ProbeResult.builder("smtp.test", target, IpFamily.ANY)
        .address("192.0.2.1")
        .negotiated(target.mode() == TlsMode.AUTO ? TlsMode.STARTTLS : target.mode())
        .timing(Phase.DNS, Duration.ofMillis(1))
        .timing(Phase.CONNECT, Duration.ofMillis(5))
        .timing(Phase.GREETING, Duration.ofMillis(12))
        .timing(Phase.TLS_HANDSHAKE, Duration.ofMillis(108))
        .timing(Phase.TOTAL, Duration.ofMillis(191))
        .tls(
            new TlsFacts(
                "TLSv1.3",
                "TLS_AES_256_GCM_SHA384",
                new CertificateFacts(
                    "CN=smtp.test",
                    "CN=test CA",
                    List.of("smtp.test"),
                    NOW.minus(Duration.ofDays(60)),
                    NOW.plus(Duration.ofDays(certDaysLeft)).plusSeconds(60))))
        .build(Reason.OK, target.mode() == TlsMode.IMPLICIT ? "implicit TLS" : "STARTTLS");
  }

  private static ProbeResult failed(ProbeTarget target, Reason reason, String message) {
    return ProbeResult.builder("smtp.test", target, IpFamily.ANY)
        .timing(Phase.DNS, Duration.ofMillis(1))
        .timing(Phase.TOTAL, Duration.ofMillis(5002))
        .build(reason, message);
  }

  private static ProbeReport report(ProbeResult... results) {
    return new ProbeReport("smtp.test", false, NOW, List.of(results));
  }

  @Test
  void everyPortAsExpectedIsOkWithEachPortsStateReasonAndPerfdata() {
    ProbeReport report =
        report(
            reachable(SUBMISSION, 29),
            failed(RELAY, Reason.CONNECT_TIMEOUT, "connect timed out (blocked)"));

    assertThat(nagios.status(report)).isEqualTo(NagiosStatus.OK);
    assertThat(nagios.render(report))
        .isEqualTo(
            "SMTP-REACH OK - smtp.test: 587/StartTLS Reachable (Ok); 25/Auto Blocked"
                + " (ConnectTimeout)"
                + " | 587_starttls_connect=0.005000s;;;0 587_starttls_greeting=0.012000s;;;0"
                + " 587_starttls_tls=0.108000s;;;0 587_starttls_total=0.191000s;;;0"
                + " 587_starttls_cert_days=29;14:"
                + " 25_auto_connect=U;;;0 25_auto_greeting=U;;;0 25_auto_tls=U;;;0"
                + " 25_auto_total=5.002000s;;;0\n"
                + "587/StartTLS: STARTTLS, TLSv1.3, cert smtp.test by test CA, 29d left\n"
                + "25/Auto: connect timed out (blocked)\n");
  }

  @Test
  void aCertificateWithFewerDaysLeftThanTheWarningIsWarning() {
    ProbeReport report = report(reachable(SUBMISSION, 29), reachable(SUBMISSIONS, 13));

    assertThat(nagios.status(report)).isEqualTo(NagiosStatus.WARNING);
    assertThat(NagiosStatus.WARNING.exitCode()).isEqualTo(1);
    assertThat(nagios.render(report))
        .startsWith(
            "SMTP-REACH WARNING - smtp.test: 587/StartTLS Reachable (Ok); 465/Implicit Reachable"
                + " (Ok, certificate expires in 13d) | ")
        .contains(" 465_implicit_cert_days=13;14:\n");
    assertThat(new NagiosRenderer(NOW, 7).status(report)).isEqualTo(NagiosStatus.OK);
  }

  @Test
  void aPortNotAsExpectedIsCriticalWhateverElseIsWrong() {
    ProbeReport report =
        report(
            failed(SUBMISSION, Reason.CONNECT_TIMEOUT, "connect timed out (blocked)"),
            reachable(SUBMISSIONS, 3),
            failed(
                new ProbeTarget(2525, TlsMode.STARTTLS, Expectation.REACHABLE),
                Reason.PROBE_ERROR,
                "probe failed"));

    assertThat(nagios.status(report)).isEqualTo(NagiosStatus.CRITICAL);
    assertThat(NagiosStatus.CRITICAL.exitCode()).isEqualTo(2);
    assertThat(nagios.render(report))
        .startsWith(
            "SMTP-REACH CRITICAL - smtp.test: 587/StartTLS Blocked (ConnectTimeout, expected"
                + " Reachable); 465/Implicit Reachable (Ok, certificate expires in 3d);"
                + " 2525/StartTLS Error (ProbeError, expected Reachable) | ");
  }

  @Test
  void eachNotAsExpectedStateIsCriticalButWhatTheProbeCouldNotTellIsUnknown() {
    for (Reason reason : Reason.values()) {
      if (reason == Reason.OK) {
        continue;
      }
      NagiosStatus expected =
          switch (reason) {
            case PROBE_ERROR, DNS_TIMEOUT, DNS_ERROR -> NagiosStatus.UNKNOWN;
            default -> NagiosStatus.CRITICAL;
          };
      assertThat(nagios.status(failed(SUBMISSION, reason, "x")))
          .as(reason.name())
          .isEqualTo(expected);
    }
    // A port expected blocked that is refused is as expected; one expected reachable is not.
    ProbeTarget closed = new ProbeTarget(25, TlsMode.AUTO, Expectation.BLOCKED);
    assertThat(nagios.status(failed(closed, Reason.CONNECTION_REFUSED, "refused")))
        .isEqualTo(NagiosStatus.OK);
    assertThat(nagios.status(report(reachable(closed, 90)))).isEqualTo(NagiosStatus.CRITICAL);
  }

  @Test
  void anUnknownPortDoesNotHideAWarningAndNothingHidesACritical() {
    ProbeResult unknown = failed(SUBMISSION, Reason.DNS_TIMEOUT, "DNS timed out");
    assertThat(nagios.status(report(unknown))).isEqualTo(NagiosStatus.UNKNOWN);
    assertThat(nagios.status(report(unknown, reachable(SUBMISSIONS, 2))))
        .isEqualTo(NagiosStatus.WARNING);
    assertThat(
            nagios.status(
                report(unknown, failed(SUBMISSIONS, Reason.CONNECTION_REFUSED, "refused"))))
        .isEqualTo(NagiosStatus.CRITICAL);
  }

  @Test
  void serverTextNeverOpensPerfdataAndMxHostsNameTheirLines() {
    ProbeResult rejected =
        ProbeResult.builder("mx1.example.com", RELAY, IpFamily.ANY)
            .timing(Phase.TOTAL, Duration.ofMillis(40))
            .build(Reason.GREETING_REJECTED, "server rejected the session: 554 go | away");
    ProbeReport mx =
        new ProbeReport(
            "example.com",
            true,
            NOW,
            List.of(
                rejected,
                ProbeResult.builder("mx2.example.com", RELAY, IpFamily.ANY)
                    .timing(Phase.TOTAL, Duration.ofMillis(40))
                    .build(Reason.OK, "plaintext (no STARTTLS offered)")));

    String out = nagios.render(mx);

    assertThat(out)
        .startsWith(
            "SMTP-REACH OK - MX hosts of example.com: mx1.example.com 25/Auto Rejected"
                + " (GreetingRejected); mx2.example.com 25/Auto Reachable (Ok) | ")
        .contains("mx1.example.com_25_auto_total=0.040000s;;;0")
        .contains("\nmx1.example.com 25/Auto: server rejected the session: 554 go / away\n");
    assertThat(out.lines())
        .allSatisfy(l -> assertThat(l.indexOf('|')).isLessThanOrEqualTo(l.lastIndexOf('|')));
    assertThat(out.chars().filter(c -> c == '|').count()).isEqualTo(1);
  }

  @Test
  void anUnknownStatusLineCarriesTheMessageWithoutPipes() {
    assertThat(NagiosRenderer.unknown("usage: '1|2' is not a port"))
        .isEqualTo("SMTP-REACH UNKNOWN - usage: '1/2' is not a port");
    assertThat(NagiosStatus.UNKNOWN.exitCode()).isEqualTo(3);
    assertThat(NagiosStatus.OK.exitCode()).isZero();
  }
}
