package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.args;
import static io.smtpreach.agent.AgentSecurityTest.assertFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.PortState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request's arguments are data: the agent holds no endpoint's Secret or ConfigMap, so every
 * option that names a file, carries a credential or changes the output refuses its endpoint before
 * anything is looked at, and no word is read as an {@code @file}. The files below would show any
 * slip: a FIFO blocks whoever opens it, a missing file would be reported as missing, a result file
 * would appear.
 */
class AgentHostileArgsTest {
  @TempDir Path tmp;

  @Test
  void optionsThatReadOrWriteFilesOrCarryCredentialsAreRefusedWithoutTouchingAnything()
      throws Exception {
    Path fifo = tmp.resolve("fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
    Path secret = tmp.resolve("environ");
    Files.writeString(secret, "SMTP_REACH_AUTH_PASSWORD=hunter2-from-the-file\n");
    Path absent = tmp.resolve("absent.pem");
    Path resultFile = tmp.resolve("result");
    List<List<String>> hostile =
        List.of(
            args("--ca-file=" + fifo, "--", "127.0.0.1"),
            args("--ca-file", absent.toString(), "127.0.0.1"),
            args("--auth-user=probe", "--auth-password-file=" + fifo, "--", "127.0.0.1"),
            args("--auth-user=probe", "--", "127.0.0.1"),
            args("--auth-user-label=from a Secret", "--", "127.0.0.1"),
            args("--result-file=" + resultFile, "--", "127.0.0.1"),
            args("-v", "127.0.0.1"),
            args("--output=json", "127.0.0.1"),
            args("--json", "127.0.0.1"),
            args("--help"),
            args("--version"),
            args("--cert-warning-days=3", "127.0.0.1"),
            args("127.0.0.1", "@" + secret),
            args("@" + secret));

    try (AgentFixture fixture = AgentFixture.start()) {
      List<BatchCodec.Entry> entries =
          fixture.client.probe(fixture.uri(), hostile, Instant.now().plusSeconds(20));

      assertThat(entries).hasSize(hostile.size());
      for (int i = 0; i < entries.size(); i++) {
        BatchCodec.Entry e = entries.get(i);
        assertThat(e.report()).as("%s", hostile.get(i)).isNull();
        assertThat(e.error())
            .as("%s", hostile.get(i))
            .containsAnyOf("cannot be given to a probe agent", "takes no @file")
            .doesNotContain("hunter2", "no such file", "cannot read");
      }
      assertThat(resultFile).doesNotExist();
    }
  }

  @Test
  void aHostOrValueThatLooksLikeAFileOptionStaysData() throws Exception {
    Path absent = tmp.resolve("absent.pem");
    try (AgentFixture fixture = AgentFixture.start()) {
      List<BatchCodec.Entry> entries =
          fixture.probe(
              Duration.ofSeconds(20),
              args(
                  "--port=" + AgentFixture.closedPort() + ":none",
                  AgentFixture.quietDns(),
                  "--dns-timeout=1s",
                  "--timeout=3s",
                  "--",
                  "--ca-file=" + absent),
              args(
                  "--port=" + AgentFixture.closedPort() + ":none",
                  "--ehlo=--ca-file=" + absent,
                  "--",
                  "127.0.0.1"));

      assertThat(entries.get(0).report().subject()).isEqualTo("--ca-file=" + absent);
      assertThat(entries.get(0).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.state()).isEqualTo(PortState.DNS_FAILURE));
      assertThat(entries.get(1).report()).isNotNull();
    }
  }

  @Test
  void hugeArgumentsAreRefusedAsTooLargeBeforeAnyIsRead() throws Exception {
    try (AgentFixture fixture = AgentFixture.start()) {
      assertFailure(
          () -> fixture.probe(Duration.ofSeconds(10), args("--ehlo=" + "x".repeat(9000), "h")),
          AgentFailure.Kind.REJECTED);
      String[] many = new String[65];
      java.util.Arrays.fill(many, "-p25");
      assertFailure(
          () -> fixture.probe(Duration.ofSeconds(10), args(many)), AgentFailure.Kind.REJECTED);
    }
  }
}
