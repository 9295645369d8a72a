package io.smtpreach.cli;

import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ReportCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code smtp-reach batch --result-file FILE -- ARGS [+ ARGS]...}: what a probe pod runs. Each
 * {@code ARGS} is one endpoint's {@code probe} arguments; the endpoints are probed at once, in one
 * process, and the result file gets one line each ({@link BatchCodec}). One endpoint's bad
 * arguments fail its line only, and its slow server costs only its own time: every endpoint's probe
 * ends by its own {@code --timeout} plus a second, whatever its servers do, well inside the pod's
 * deadline (twice the timeout, plus time to start). Like the probe command, its model is built by
 * code.
 */
public final class BatchCommand implements Callable<Integer> {
  /** Separates endpoints' arguments; no host, name, duration or mode is a lone plus sign. */
  public static final String SEPARATOR = "+";

  final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);

  BatchCommand() {
    spec.name("batch");
    ProbeCommand.dataOnly(spec);
    spec.usageMessage()
        .hidden(true)
        .description("Probes several endpoints at once for a probe pod; one result line each.");
    spec.addOption(
        OptionSpec.builder("--result-file")
            .paramLabel("FILE")
            .required(true)
            .type(String.class)
            .description("Where the results go, at most 4096 bytes.")
            .build());
    spec.addPositional(
        PositionalParamSpec.builder()
            .paramLabel("ARGS")
            .arity("0..*")
            .type(List.class)
            .auxiliaryTypes(String.class)
            .description("Each endpoint's probe arguments, split by +.")
            .build());
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    List<String> words = spec.positionalParameters().get(0).getValue();
    List<List<String>> members = split(words == null ? List.of() : words);
    Path resultFile = Path.of(spec.findOption("--result-file").<String>getValue());
    List<BatchCodec.Entry> entries = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(members.size());
    try {
      // Parsed one after another, probed at once.
      List<Future<BatchCodec.Entry>> running = new ArrayList<>();
      for (List<String> args : members) {
        running.add(probe(args, pool));
      }
      for (Future<BatchCodec.Entry> f : running) {
        entries.add(entry(f));
      }
    } finally {
      pool.shutdownNow();
    }
    Files.writeString(
        resultFile,
        BatchCodec.encode(entries, ReportCodec.TERMINATION_MESSAGE_LIMIT),
        StandardCharsets.UTF_8);
    return print(members, entries);
  }

  private static List<List<String>> split(List<String> words) {
    List<List<String>> members = new ArrayList<>();
    List<String> current = new ArrayList<>();
    for (String w : words) {
      if (w.equals(SEPARATOR)) {
        members.add(current);
        current = new ArrayList<>();
      } else {
        current.add(w);
      }
    }
    members.add(current);
    return members;
  }

  private static Future<BatchCodec.Entry> probe(List<String> args, ExecutorService pool) {
    EndpointProbe probe = EndpointProbe.forPod(args);
    return probe.refused()
        ? CompletableFuture.completedFuture(probe.run())
        : pool.submit(probe::run);
  }

  private static BatchCodec.Entry entry(Future<BatchCodec.Entry> f) throws InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      // EndpointProbe says every probe failure; only an Error is left to say here.
      Throwable cause = e.getCause();
      return BatchCodec.Entry.failed(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }
  }

  /** What {@code kubectl logs} shows: each endpoint's table, or why it was not probed. */
  private int print(List<List<String>> members, List<BatchCodec.Entry> entries) {
    PrintWriter out = spec.commandLine().getOut();
    TableRenderer table = new TableRenderer();
    int exit = ExitCodes.AS_EXPECTED;
    for (int i = 0; i < entries.size(); i++) {
      BatchCodec.Entry e = entries.get(i);
      ProbeReport report = e.report();
      if (report == null) {
        out.println(String.join(" ", members.get(i)) + ": " + e.error());
        exit = ExitCodes.PROBE_ERROR;
      } else {
        out.print(table.render(report));
        if (!report.allAsExpected() && exit == ExitCodes.AS_EXPECTED) {
          exit = ExitCodes.NOT_AS_EXPECTED;
        }
      }
    }
    out.flush();
    return exit;
  }
}
