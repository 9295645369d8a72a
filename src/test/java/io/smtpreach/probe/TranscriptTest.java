package io.smtpreach.probe;

import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.TestCertificates;
import io.smtpreach.probe.TranscriptListener.Kind;
import io.smtpreach.probe.TranscriptListener.Line;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A listener hears each port's dialogue in order, inside TLS or not, and never the credential. */
class TranscriptTest {
  private static final String NAME = "fault.test";
  private static final String USER = "apikey-user-5e1f";
  private static final String PASSWORD = "s3cret-api-key-9c2d";
  private static final TestCertificates CA = TestCertificates.newCa("smtp-reach transcript CA");

  @TempDir static Path tmp;
  private static Path caFile;

  @BeforeAll
  static void writeCa() throws Exception {
    caFile = tmp.resolve("ca.pem");
    CA.writeCaPem(caFile);
  }

  private static List<Line> transcript(String authMechanism, Credentials credentials)
      throws Exception {
    Queue<Line> lines = new ConcurrentLinkedQueue<>();
    ProbeOptions options =
        ProbeOptions.builder()
            .connectTimeout(Duration.ofSeconds(2))
            .readTimeout(Duration.ofSeconds(2))
            .timeout(Duration.ofSeconds(10))
            .serverName(NAME)
            .caBundle(caFile)
            .credentials(credentials)
            .build();
    try (FaultServer server =
            FaultServer.start(
                FaultServer.smtp(
                    plain()
                        .capabilities("STARTTLS", "AUTH " + authMechanism)
                        .startTls(
                            "220 2.0.0 go ahead", CA.issue(NAME, List.of(NAME), 30).serverContext())
                        .authReply("235 2.7.0 authenticated")));
        SmtpProber prober = new SmtpProber(options, lines::add)) {
      ProbeResult r =
          prober
              .probe("127.0.0.1", List.of(new ProbeTarget(server.port(), TlsMode.STARTTLS)))
              .results()
              .get(0);
      assertThat(r.reason()).isEqualTo(Reason.OK);
    }
    return List.copyOf(lines);
  }

  /** A line as swaks would show it: {@code ->} sent, {@code <-} received, {@code ~} inside TLS. */
  private static String shown(Line line) {
    return switch (line.kind()) {
      case SENT -> (line.encrypted() ? "~> " : "-> ") + line.text();
      case RECEIVED -> (line.encrypted() ? "<~ " : "<- ") + line.text();
      case NOTE -> "=== " + line.text();
    };
  }

  @Test
  void theListenerHearsTheWholeDialogueInOrderAndWhichPartWasInsideTls() throws Exception {
    List<String> shown =
        transcript("PLAIN", new Credentials(USER, PASSWORD, "key apikey of Secret creds")).stream()
            .filter(l -> l.kind() != Kind.NOTE)
            .map(TranscriptTest::shown)
            .toList();

    assertThat(shown)
        .containsExactly(
            "<- 220 fault.test ESMTP",
            "-> EHLO smtp-reach.invalid",
            "<- 250-fault.test",
            "<- 250-STARTTLS",
            "<- 250 AUTH PLAIN",
            "-> STARTTLS",
            "<- 220 2.0.0 go ahead",
            "~> EHLO smtp-reach.invalid",
            "<~ 250-fault.test",
            "<~ 250-STARTTLS",
            "<~ 250 AUTH PLAIN",
            "~> AUTH PLAIN [redacted]",
            "<~ 235 2.7.0 authenticated",
            "~> QUIT",
            "<~ 221 2.0.0 bye");
  }

  @Test
  void notesSayWhereTheProbeConnectedAndWhatTlsItGot() throws Exception {
    List<Line> lines = transcript("PLAIN", null);
    List<String> notes = lines.stream().filter(l -> l.kind() == Kind.NOTE).map(Line::text).toList();

    assertThat(notes.get(0)).startsWith("connecting to 127.0.0.1 port ");
    assertThat(notes.get(1)).isEqualTo("connected");
    assertThat(notes.get(2)).startsWith("TLS started: TLSv1.3, TLS_").contains("CN=fault.test");
    assertThat(notes.get(notes.size() - 1)).isEqualTo("connection closed");
    assertThat(lines)
        .allSatisfy(
            l -> {
              assertThat(l.host()).isEqualTo("127.0.0.1");
              assertThat(l.target().mode()).isEqualTo(TlsMode.STARTTLS);
              assertThat(l.family()).isEqualTo(IpFamily.ANY);
            });
  }

  @Test
  void authLoginAnswersAreRedactedLikeTheAuthPlainToken() throws Exception {
    List<Line> lines = transcript("LOGIN", new Credentials(USER, PASSWORD));
    List<String> auth =
        lines.stream()
            .filter(l -> l.kind() != Kind.NOTE && l.encrypted())
            .map(TranscriptTest::shown)
            .dropWhile(s -> !s.startsWith("~> AUTH"))
            .toList();

    assertThat(auth)
        .startsWith(
            "~> AUTH LOGIN",
            "<~ 334 VXNlcm5hbWU6",
            "~> [redacted]",
            "<~ 334 UGFzc3dvcmQ6",
            "~> [redacted]",
            "<~ 235 2.7.0 authenticated");
    for (Line line : lines) {
      for (String secret :
          List.of(
              USER,
              PASSWORD,
              base64(USER),
              base64(PASSWORD),
              base64("\0" + USER + "\0" + PASSWORD))) {
        assertThat(line.text()).doesNotContain(secret);
      }
    }
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
