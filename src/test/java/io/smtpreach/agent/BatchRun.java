package io.smtpreach.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.MalformedReportException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a probe pod returns for some endpoints' arguments: {@code smtp-reach batch} run as its own
 * process, as in a pod, and its result file; and results compared with what may differ between two
 * runs (start instants, timings) taken out.
 */
final class BatchRun {
  private BatchRun() {}

  /** Each endpoint's result as {@code smtp-reach batch} gives it. */
  static List<BatchCodec.Entry> batch(Path dir, List<List<String>> endpoints) throws Exception {
    Path result = Files.createTempFile(dir, "result", ".txt");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProjectPaths.java(),
                "-cp",
                ProjectPaths.classPath(),
                "io.smtpreach.cli.Main",
                "batch",
                "--result-file",
                result.toString(),
                "--"));
    for (int i = 0; i < endpoints.size(); i++) {
      if (i > 0) {
        cmd.add("+");
      }
      cmd.addAll(endpoints.get(i));
    }
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("batch finished").isTrue();
    return BatchCodec.decode(Files.readString(result));
  }

  /** An entry in full, without when it ran and how long each step took. */
  static String comparable(BatchCodec.Entry entry) {
    return BatchCodec.encode(List.of(entry), Integer.MAX_VALUE)
        .replaceAll("\"at\":\"[^\"]*\",?", "")
        .replaceAll("\"ms\":\\{[^}]*\\},?", "");
  }

  static List<String> comparable(List<BatchCodec.Entry> entries) throws MalformedReportException {
    return entries.stream().map(BatchRun::comparable).toList();
  }
}
