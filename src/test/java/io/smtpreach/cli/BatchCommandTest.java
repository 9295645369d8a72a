package io.smtpreach.cli;

import static io.smtpreach.cli.ProbeCommandTest.closedPort;
import static io.smtpreach.cli.ProbeCommandTest.smtpReach;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.Expectation;
import io.smtpreach.probe.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

  /** The batch command for these endpoints' words, split by +, its results in {@code result}. */
  private static ProbeCommandTest.Run batch(Path result, String... words) throws Exception {
    List<String> args = new ArrayList<>(List.of("batch", "--result-file", result.toString(), "--"));
    args.addAll(List.of(words));
    return smtpReach(Map.of(), args.toArray(String[]::new));
  }
}
