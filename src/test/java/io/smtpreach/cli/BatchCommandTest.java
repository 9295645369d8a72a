package io.smtpreach.cli;

import static io.smtpreach.cli.ProbeCommandTest.closedPort;
import static io.smtpreach.cli.ProbeCommandTest.smtpReach;
import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.FaultServer.Step;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.Expectation;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.PortState;
import io.smtpreach.probe.Reason;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a probe pod runs: several endpoints in one process, one result line each, in order. */
class BatchCommandTest {
  @TempDir Path tmp;

  @Test
  void eachEndpointGetsItsOwnLineAndABadOneFailsOnlyItself() throws Exception {
    int a = closedPort();
    int b = closedPort();
    Path result = tmp.resolve("result");

    ProbeCommandTest.Run run =
        batch(
            result,
            "127.0.0.1",
            "-p",
            a + ":starttls:blocked",
            "+",
            "127.0.0.1",
            "--bogus",
            "+",
            "127.0.0.1",
            "-p",
            b + ":implicit");

    List<BatchCodec.Entry> entries = BatchCodec.decode(Files.readString(result));
    assertThat(entries).hasSize(3);
    assertThat(entries.get(0).report().results())
        .singleElement()
        .satisfies(r -> assertThat(r.reason()).isEqualTo(Reason.CONNECTION_REFUSED))
        .satisfies(r -> assertThat(r.target().port()).isEqualTo(a));
    assertThat(entries.get(1).report()).isNull();
    assertThat(entries.get(1).error()).contains("--bogus");
    assertThat(entries.get(2).report().results())
        .singleElement()
        .satisfies(r -> assertThat(r.target().port()).isEqualTo(b));
    assertThat(run.exitCode()).isEqualTo(ExitCodes.PROBE_ERROR);
    assertThat(run.stdout()).contains("--bogus", b + "  Implicit");
  }

  @Test
  void anEndpointKeepsNothingOfTheOneParsedBeforeIt() throws Exception {
    int a = closedPort();
    int b = closedPort();
    Path result = tmp.resolve("result");

    batch(
        result,
        "--mx",
        "example.invalid",
        "-p",
        "25:starttls:blocked",
        "--dns-server",
        "127.0.0.1:" + a,
        "--dns-timeout",
        "1s",
        "+",
        "localhost",
        "-p",
        b + ":implicit");

    List<BatchCodec.Entry> entries = BatchCodec.decode(Files.readString(result));
    assertThat(entries).hasSize(2);
    assertThat(entries.get(0).report().mx()).isTrue();
    assertThat(entries.get(1).report().subject()).isEqualTo("localhost");
    assertThat(entries.get(1).report().mx()).isFalse();
    assertThat(entries.get(1).report().results())
        .singleElement()
        .satisfies(r -> assertThat(r.target().port()).isEqualTo(b))
        .satisfies(r -> assertThat(r.target().expect()).isEqualTo(Expectation.REACHABLE));
  }

  @Test
  void optionValuesAndHostsStayDataWhateverTheyLookLike() throws Exception {
    Path environ = tmp.resolve("environ");
    Files.writeString(environ, "SMTP_REACH_AUTH_PASSWORD=hunter2-from-the-file\n");
    String long4k = "x".repeat(4096);
    Queue<String> heard = new ConcurrentLinkedQueue<>();
    Path result = tmp.resolve("result");
    try (FaultServer server = FaultServer.start(FaultServer.smtp(plain().heardInto(heard)))) {
      String port = "--port=" + server.port() + ":none";
      String quietDns = "--dns-server=127.0.0.1:" + closedPort();

      ProbeCommandTest.Run run =
          batch(
              result,
              // 0: an EHLO name that looks like an option
              port,
              "--ehlo=--insecure",
              "--",
              "127.0.0.1",
              "+",
              // 1: a host that looks like an option
              port,
              quietDns,
              "--",
              "--insecure",
              "+",
              // 2: an EHLO name with an option and a value in it: a usage error, not -p 1
              "--ehlo=-p 1",
              port,
              "--",
              "127.0.0.1",
              "+",
              // 3: a value with a line break
              port,
              "--ehlo=a\nb",
              "--",
              "127.0.0.1",
              "+",
              // 4: a separator, a 4 KiB value, and what would be an @file
              port,
              "--ehlo=+",
              "--server-name=" + long4k,
              "--",
              "127.0.0.1",
              "+",
              port,
              "--ehlo=" + long4k,
              "--",
              "127.0.0.1",
              "+",
              port,
              quietDns,
              "--",
              "@" + environ);

      String file = Files.readString(result);
      List<BatchCodec.Entry> entries = BatchCodec.decode(file);
      assertThat(entries).hasSize(7);
      assertThat(heard).contains("EHLO --insecure", "EHLO +", "EHLO " + long4k);
      assertThat(entries.get(0).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.reason()).isEqualTo(Reason.OK));
      assertThat(entries.get(1).report().subject()).isEqualTo("--insecure");
      assertThat(entries.get(1).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.state()).isEqualTo(PortState.DNS_FAILURE));
      assertThat(entries.get(2).error()).contains("EHLO name must be");
      assertThat(entries.get(3).error()).contains("EHLO name must be");
      assertThat(entries.get(4).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.reason()).isEqualTo(Reason.OK));
      assertThat(entries.get(5).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.reason()).isEqualTo(Reason.OK));
      assertThat(entries.get(6).report().subject()).isEqualTo("@" + environ);
      assertThat(file + run.stdout() + run.stderr()).doesNotContain("hunter2-from-the-file");
    }
  }

  @Test
  void anAtFileIsNeverExpandedBeforeTheEndpointsAreSplit() throws Exception {
    Path environ = tmp.resolve("environ");
    Files.writeString(environ, "+ --insecure SMTP_REACH_AUTH_PASSWORD=hunter2-from-the-file\n");
    Path result = tmp.resolve("result");

    ProbeCommandTest.Run run = batch(result, "127.0.0.1", "@" + environ);

    List<BatchCodec.Entry> entries = BatchCodec.decode(Files.readString(result));
    assertThat(entries).singleElement().satisfies(e -> assertThat(e.error()).contains("@"));
    assertThat(Files.readString(result) + run.stdout() + run.stderr())
        .doesNotContain("hunter2-from-the-file");
  }

  @Test
  void anEndpointCutByItsDeadlineGetsItsTimeoutAndTheOthersKeepTheirResults() throws Exception {
    Path result = tmp.resolve("result");
    try (FaultServer tarpit =
            FaultServer.start(
                FaultServer.smtp(
                    plain()
                        .capabilities("X" + "x".repeat(1000))
                        .drips(Step.EHLO, Duration.ofMillis(900))));
        FaultServer fine = FaultServer.start(FaultServer.smtp(plain()));
        DatagramSocket silentDns = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      long start = System.nanoTime();
      batch(
          result,
          "--port=" + tarpit.port() + ":none",
          "--timeout=2s",
          "--read-timeout=1s",
          "--",
          "127.0.0.1",
          "+",
          "--port=" + fine.port() + ":none",
          "--timeout=2s",
          "--",
          "127.0.0.1",
          "+",
          "--port=587",
          "--timeout=2s",
          "--dns-timeout=30s",
          "--dns-server=127.0.0.1:" + silentDns.getLocalPort(),
          "--",
          "smtp.example.test");
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

      List<BatchCodec.Entry> entries = BatchCodec.decode(Files.readString(result));
      assertThat(entries).hasSize(3);
      List<Reason> reasons =
          entries.stream().map(e -> e.report().results().get(0).reason()).toList();
      assertThat(reasons).containsExactly(Reason.READ_TIMEOUT, Reason.OK, Reason.DNS_TIMEOUT);
      assertThat(entries)
          .allSatisfy(
              e ->
                  assertThat(e.report().results().get(0).timing(Phase.TOTAL))
                      .isLessThan(Duration.ofSeconds(3)));
      assertThat(elapsed)
          .as("the JVM's start, then one deadline")
          .isLessThan(Duration.ofSeconds(15));
    }
  }

  /** The batch command for these endpoints' words, split by +, its results in {@code result}. */
  private static ProbeCommandTest.Run batch(Path result, String... words) throws Exception {
    List<String> args = new ArrayList<>(List.of("batch", "--result-file", result.toString(), "--"));
    args.addAll(List.of(words));
    return smtpReach(Map.of(), args.toArray(String[]::new));
  }
}
