package io.smtpreach.probe;

import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.FaultServer.Behaviour;
import io.smtpreach.peers.TestCertificates;
import io.smtpreach.peers.TestCertificates.Issued;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile servers no real MTA produces on demand: each gets its own precise reason, fast. */
class FaultServerProbeTest {
  private static final String NAME = "fault.test";
  private static final TestCertificates CA = TestCertificates.newCa("smtp-reach fault CA");

  @TempDir static Path tmp;
  private static Path caFile;

  @BeforeAll
  static void writeCa() throws Exception {
    caFile = tmp.resolve("ca.pem");
    CA.writeCaPem(caFile);
  }

  private static ProbeOptions.Builder options() {
    return ProbeOptions.builder()
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(2))
        .timeout(Duration.ofSeconds(10))
        .tlsSniffDelay(Duration.ofMillis(200))
        .serverName(NAME)
        .caBundle(caFile);
  }

  private static ProbeResult probe(Behaviour behaviour, TlsMode mode) throws Exception {
    return probe(behaviour, mode, options().build());
  }

  private static ProbeResult probe(Behaviour behaviour, TlsMode mode, ProbeOptions options)
      throws Exception {
    try (FaultServer server = FaultServer.start(behaviour);
        SmtpProber prober = new SmtpProber(options)) {
      return prober
          .probe("127.0.0.1", List.of(new ProbeTarget(server.port(), mode)))
          .results()
          .get(0);
    }
  }

  private static Issued valid() {
    return CA.issue(NAME, List.of(NAME), 30);
  }

  @Test
  void aSilentPortIsNoGreetingAfterTheReadTimeout() throws Exception {
    ProbeResult r = probe(FaultServer.silent(), TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.NO_GREETING);
    assertThat(r.state()).isEqualTo(PortState.PROTOCOL_ERROR);
    assertThat(r.message()).contains("no greeting within 2s");
    assertThat(r.timing(Phase.TOTAL)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aSlowGreetingWithinTheReadTimeoutIsReachableDespiteTheTlsSniff() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.smtp(plain().greetingDelay(Duration.ofMillis(800))),
            TlsMode.NONE,
            options().readTimeout(Duration.ofSeconds(5)).build());
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.greeting()).isEqualTo("220 fault.test ESMTP");
    assertThat(r.timing(Phase.GREETING)).isGreaterThanOrEqualTo(Duration.ofMillis(800));
  }

  @Test
  void aGreetingSlowerThanTheReadTimeoutIsNoGreeting() throws Exception {
    ProbeResult r =
        probe(FaultServer.smtp(plain().greetingDelay(Duration.ofSeconds(4))), TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.NO_GREETING);
  }

  @Test
  void anEndlessMultiLineReplyIsCutOffAtTheBound() throws Exception {
    ProbeResult r = probe(FaultServer.endlessReply(), TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.REPLY_TOO_LONG);
    assertThat(r.timing(Phase.TOTAL)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void a554GreetingIsRejectedWithTheServersText() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.smtp(plain().greeting("554 5.7.1 fault.test: no SMTP service for you")),
            TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.GREETING_REJECTED);
    assertThat(r.state()).isEqualTo(PortState.REJECTED);
    assertThat(r.message()).contains("554 5.7.1 fault.test: no SMTP service for you");
  }

  @Test
  void a421GreetingIsRejectedToo() throws Exception {
    ProbeResult r =
        probe(FaultServer.smtp(plain().greeting("421 4.3.2 shutting down")), TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.GREETING_REJECTED);
    assertThat(r.message()).contains("421 4.3.2");
  }

  @Test
  void aServerThatIsNotSmtpIsSaidToBeNotSmtpWithWhatItSent() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.sends("SSH-2.0-OpenSSH_9.2p1\r\n".getBytes(StandardCharsets.US_ASCII)),
            TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.NOT_SMTP);
    assertThat(r.message()).contains("SSH-2.0-OpenSSH_9.2p1");
  }

  @Test
  void garbageBytesAreNotSmtpAndControlCharactersNeverReachTheMessage() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.sends(new byte[] {0x1b, '[', '2', 'J', 0, 7, '\r', '\n'}),
            TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.NOT_SMTP);
    assertThat(r.message()).doesNotContainPattern("\\p{Cntrl}");
  }

  @Test
  void aResetAfterAcceptIsConnectionReset() throws Exception {
    ProbeResult r = probe(FaultServer.resets(), TlsMode.STARTTLS);
    assertThat(r.reason()).isIn(Reason.CONNECTION_RESET, Reason.CONNECTION_CLOSED);
    assertThat(r.state()).isNotEqualTo(PortState.BLOCKED);
  }

  @Test
  void startTlsMissingIsAFailureWhenStartTlsIsAsked() throws Exception {
    ProbeResult r =
        probe(FaultServer.smtp(plain().capabilities("PIPELINING", "AUTH PLAIN")), TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.STARTTLS_NOT_OFFERED);
    assertThat(r.state()).isEqualTo(PortState.TLS_FAILURE);
    assertThat(r.message()).contains("possible STARTTLS stripping");
    assertThat(r.capabilities()).containsExactly("PIPELINING", "AUTH PLAIN");
  }

  @Test
  void startTlsMissingIsPlaintextWhenAutoDetecting() throws Exception {
    ProbeResult r = probe(FaultServer.smtp(plain()), TlsMode.AUTO);
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.negotiated()).isEqualTo(TlsMode.NONE);
    assertThat(r.isSecure()).isFalse();
  }

  @Test
  void startTlsRefusedKeepsTheServersReply() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("STARTTLS")
                    .startTls("454 4.7.0 TLS not available due to local problem", null)),
            TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.STARTTLS_REFUSED);
    assertThat(r.message()).contains("454 4.7.0 TLS not available");
  }

  @Test
  void aValidCertificateFromTheExtraCaIsReachable() throws Exception {
    Issued cert = valid();
    ProbeResult r =
        probe(FaultServer.implicitTls(cert.serverContext(), null, null, plain()), TlsMode.IMPLICIT);
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.tls().certificate().subject()).isEqualTo("CN=" + NAME);
    assertThat(r.tls().certificate().daysLeft(Instant.now())).isBetween(28L, 30L);
  }

  @Test
  void anExpiredCertificateIsExpiredAndItsFactsAreKept() throws Exception {
    Instant now = Instant.now();
    Issued cert =
        CA.issue(
            NAME, List.of(NAME), now.minus(Duration.ofDays(90)), now.minus(Duration.ofDays(3)));
    ProbeResult r =
        probe(FaultServer.implicitTls(cert.serverContext(), null, null, plain()), TlsMode.IMPLICIT);
    assertThat(r.reason()).isEqualTo(Reason.CERT_EXPIRED);
    assertThat(r.state()).isEqualTo(PortState.TLS_FAILURE);
    assertThat(r.tls().certificate().notAfter()).isBefore(now);
    assertThat(r.tls().certificate().daysLeft(now)).isLessThan(0);
    assertThat(r.tls().certificate().issuer()).isEqualTo("CN=smtp-reach fault CA");
    assertThat(r.greeting()).as("the dialogue goes on for facts").isEqualTo("220 fault.test ESMTP");
  }

  @Test
  void anExpiredCertificateBehindStartTlsIsExpiredToo() throws Exception {
    Instant now = Instant.now();
    Issued cert =
        CA.issue(
            NAME, List.of(NAME), now.minus(Duration.ofDays(90)), now.minus(Duration.ofDays(1)));
    ProbeResult r =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("STARTTLS")
                    .startTls("220 2.0.0 go ahead", cert.serverContext())),
            TlsMode.STARTTLS);
    assertThat(r.reason()).isEqualTo(Reason.CERT_EXPIRED);
    assertThat(r.negotiated()).isEqualTo(TlsMode.STARTTLS);
  }

  @Test
  void aCertificateNotYetValidIsNotYetValid() throws Exception {
    Instant now = Instant.now();
    Issued cert =
        CA.issue(NAME, List.of(NAME), now.plus(Duration.ofDays(2)), now.plus(Duration.ofDays(90)));
    ProbeResult r =
        probe(FaultServer.implicitTls(cert.serverContext(), null, null, plain()), TlsMode.IMPLICIT);
    assertThat(r.reason()).isEqualTo(Reason.CERT_NOT_YET_VALID);
  }

  @Test
  void aCertificateFromAnUnknownCaIsUntrusted() throws Exception {
    Issued cert = valid();
    ProbeResult r =
        probe(
            FaultServer.implicitTls(cert.serverContext(), null, null, plain()),
            TlsMode.IMPLICIT,
            options().caBundle(null).build());
    assertThat(r.reason()).isEqualTo(Reason.CERT_UNTRUSTED);
    assertThat(r.tls().certificate().issuer()).isEqualTo("CN=smtp-reach fault CA");
  }

  @Test
  void aCertificateForAnotherNameIsAHostnameMismatch() throws Exception {
    Issued cert = CA.issue("other.test", List.of("other.test", "*.other.test"), 30);
    ProbeResult r =
        probe(FaultServer.implicitTls(cert.serverContext(), null, null, plain()), TlsMode.IMPLICIT);
    assertThat(r.reason()).isEqualTo(Reason.CERT_HOSTNAME_MISMATCH);
    assertThat(r.message()).contains("DNS:other.test").contains("not " + NAME);
  }

  @Test
  void insecureAcceptsABadCertificateButStillReportsIt() throws Exception {
    Instant now = Instant.now();
    Issued cert =
        CA.issue(
            NAME, List.of(NAME), now.minus(Duration.ofDays(90)), now.minus(Duration.ofDays(3)));
    ProbeResult r =
        probe(
            FaultServer.implicitTls(cert.serverContext(), null, null, plain()),
            TlsMode.IMPLICIT,
            options().insecure(true).build());
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.tls().certificate().notAfter()).isBefore(now);
  }

  @Test
  void aTls10OnlyServerIsAVersionMismatch() throws Exception {
    Issued cert = valid();
    ProbeResult r =
        probe(
            FaultServer.implicitTls(cert.serverContext(), List.of("TLSv1"), null, plain()),
            TlsMode.IMPLICIT);
    assertThat(r.reason()).isEqualTo(Reason.TLS_VERSION_MISMATCH);
    assertThat(r.message()).contains("TLSv1.2");
  }

  @Test
  void noSharedCipherSuiteIsAHandshakeFailure() throws Exception {
    Issued cert = valid();
    ProbeResult r =
        probe(
            FaultServer.implicitTls(
                cert.serverContext(),
                List.of("TLSv1.2"),
                List.of("TLS_ECDH_anon_WITH_AES_128_CBC_SHA"),
                plain()),
            TlsMode.IMPLICIT);
    assertThat(r.reason()).isEqualTo(Reason.TLS_HANDSHAKE_FAILED);
  }

  @Test
  void autoDetectsImplicitTlsOnASilentPort() throws Exception {
    ProbeResult r =
        probe(FaultServer.implicitTls(valid().serverContext(), null, null, plain()), TlsMode.AUTO);
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.negotiated()).isEqualTo(TlsMode.IMPLICIT);
  }

  // ---- the credential ----

  private static final String USER = "apikey-user-5e1f";
  private static final String PASSWORD = "s3cret-api-key-9c2d";
  private static final String SOURCE = "key apikey of Secret creds";

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** Every form of the credential a server could echo back. */
  private static List<String> credentialForms() {
    return List.of(
        USER, PASSWORD, base64(USER), base64(PASSWORD), base64("\0" + USER + "\0" + PASSWORD));
  }

  private static String everythingReported(ProbeResult r) {
    return ReportCodec.encode(new ProbeReport("127.0.0.1", false, Instant.now(), List.of(r))) + r;
  }

  private static ProbeOptions withCredential(Credentials credentials) {
    return options().credentials(credentials).build();
  }

  @Test
  void aRejectedAuthNamesWhereTheUsernameCameFromNotTheUsername() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("STARTTLS", "AUTH PLAIN LOGIN")
                    .startTls("220 go ahead", valid().serverContext())),
            TlsMode.STARTTLS,
            withCredential(new Credentials(USER, PASSWORD, SOURCE)));
    assertThat(r.reason()).isEqualTo(Reason.AUTH_FAILED);
    assertThat(r.message())
        .isEqualTo(
            "AUTH with the username from key apikey of Secret creds rejected: 535 5.7.8"
                + " authentication failed");
    assertThat(everythingReported(r)).doesNotContain(USER);
  }

  @Test
  void anAcceptedAuthNamesTheUsernameOnlyWhenItMayBeShown() throws Exception {
    FaultServer.Behaviour accepts =
        FaultServer.smtp(
            plain()
                .capabilities("STARTTLS", "AUTH PLAIN")
                .startTls("220 go ahead", valid().serverContext())
                .authReply("235 2.7.0 authenticated"));
    ProbeResult fromSecret =
        probe(accepts, TlsMode.STARTTLS, withCredential(new Credentials(USER, PASSWORD, SOURCE)));
    ProbeResult typed =
        probe(accepts, TlsMode.STARTTLS, withCredential(new Credentials("alice", PASSWORD)));

    assertThat(fromSecret.reason()).isEqualTo(Reason.OK);
    assertThat(fromSecret.message())
        .isEqualTo("STARTTLS; AUTH with the username from key apikey of Secret creds accepted");
    assertThat(everythingReported(fromSecret)).doesNotContain(USER);
    assertThat(typed.message()).isEqualTo("STARTTLS; AUTH as alice accepted");
  }

  @Test
  void aServerThatEchoesTheCredentialNeverGetsItIntoTheReport() throws Exception {
    Issued cert = CA.issue(NAME, List.of(NAME, USER + ".fault.test"), 30);
    String everyForm = String.join(" ", credentialForms());
    Queue<String> heard = new ConcurrentLinkedQueue<>();
    ProbeResult r =
        probe(
            FaultServer.smtp(
                plain()
                    .greeting("220 fault.test ESMTP hello " + everyForm)
                    .capabilities("STARTTLS", "AUTH PLAIN LOGIN", "X-ECHO " + everyForm)
                    .startTls("220 go ahead", cert.serverContext())
                    // The password straddles the 160 characters a message keeps of a reply.
                    .authReply(
                        "535 5.7.8 "
                            + "x".repeat(130)
                            + " bad password "
                            + PASSWORD
                            + " for "
                            + USER
                            + " token "
                            + base64("\0" + USER + "\0" + PASSWORD))
                    .heardInto(heard)),
            TlsMode.STARTTLS,
            withCredential(new Credentials(USER, PASSWORD, SOURCE)));

    assertThat(heard).anySatisfy(line -> assertThat(line).startsWith("AUTH PLAIN "));
    assertThat(r.reason()).isEqualTo(Reason.AUTH_FAILED);
    assertThat(r.message())
        .contains("535 5.7.8 xxx", " bad password [redac")
        .as("no prefix of the password survives the cut")
        .doesNotContain(PASSWORD.substring(0, 4));
    assertThat(r.greeting())
        .isEqualTo(
            "220 fault.test ESMTP hello [redacted] [redacted] [redacted] [redacted] [redacted]");
    String reported = everythingReported(r);
    for (String form : credentialForms()) {
      assertThat(reported).doesNotContain(form);
    }
  }

  @Test
  void aServerThatEchoesTheLoginExchangeNeverGetsItIntoTheReport() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("STARTTLS", "AUTH LOGIN")
                    .startTls("220 go ahead", valid().serverContext())
                    .authReply(
                        "535 5.7.8 you sent "
                            + base64(USER)
                            + " and "
                            + base64(PASSWORD)
                            + ", that is "
                            + USER.toUpperCase(java.util.Locale.ROOT))),
            TlsMode.STARTTLS,
            withCredential(new Credentials(USER, PASSWORD, SOURCE)));
    assertThat(r.reason()).isEqualTo(Reason.AUTH_FAILED);
    assertThat(r.message())
        .endsWith("rejected: 535 5.7.8 you sent [redacted] and [redacted], that is [redacted]");
    String reported = everythingReported(r);
    for (String form : credentialForms()) {
      assertThat(reported).doesNotContainIgnoringCase(form);
    }
  }

  @Test
  void withInsecureAnUnverifiedServerIsReachableButNeverGetsTheCredential() throws Exception {
    Queue<String> startTls = new ConcurrentLinkedQueue<>();
    Queue<String> implicit = new ConcurrentLinkedQueue<>();
    Instant now = Instant.now();
    Issued expired =
        CA.issue(
            NAME, List.of(NAME), now.minus(Duration.ofDays(90)), now.minus(Duration.ofDays(3)));
    ProbeOptions insecure =
        options().insecure(true).credentials(new Credentials(USER, PASSWORD, SOURCE)).build();

    ProbeResult untrusted =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("STARTTLS", "AUTH PLAIN LOGIN")
                    .startTls("220 go ahead", valid().serverContext())
                    .authReply("235 2.7.0 authenticated")
                    .heardInto(startTls)),
            TlsMode.STARTTLS,
            insecure.toBuilder().caBundle(null).build());
    ProbeResult expiredImplicit =
        probe(
            FaultServer.implicitTls(
                expired.serverContext(),
                null,
                null,
                plain()
                    .capabilities("AUTH PLAIN LOGIN")
                    .authReply("235 2.7.0 authenticated")
                    .heardInto(implicit)),
            TlsMode.IMPLICIT,
            insecure);

    assertThat(untrusted.reason()).isEqualTo(Reason.OK);
    assertThat(untrusted.authenticated()).isNull();
    assertThat(untrusted.message())
        .contains("credentials not sent: the certificate failed verification")
        .contains("not trusted");
    assertThat(expiredImplicit.reason()).isEqualTo(Reason.OK);
    assertThat(expiredImplicit.authenticated()).isNull();
    assertThat(expiredImplicit.message())
        .contains("credentials not sent: the certificate failed verification")
        .contains("expired");
    for (Queue<String> heard : List.of(startTls, implicit)) {
      assertThat(heard).contains("QUIT").noneMatch(line -> line.startsWith("AUTH"));
    }
  }

  @Test
  void withInsecureAVerifiedServerStillGetsTheAuthCheck() throws Exception {
    ProbeResult r =
        probe(
            FaultServer.smtp(
                plain()
                    .capabilities("STARTTLS", "AUTH PLAIN")
                    .startTls("220 go ahead", valid().serverContext())
                    .authReply("235 2.7.0 authenticated")),
            TlsMode.STARTTLS,
            options().insecure(true).credentials(new Credentials("alice", PASSWORD)).build());
    assertThat(r.reason()).isEqualTo(Reason.OK);
    assertThat(r.authenticated()).isTrue();
    assertThat(r.message()).isEqualTo("STARTTLS; AUTH as alice accepted");
  }
}
