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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code smtp-reach batch --result-file FILE -- ARGS [+ ARGS]...}: what a probe pod runs. Each
 * {@code ARGS} is one endpoint's {@code probe} arguments; the endpoints are probed at once, in one
 * process, and the result file gets one line each ({@link BatchCodec}). One endpoint's bad
 * arguments fail its line only.
 */
@Command(
    name = "batch",
    hidden = true,
    description = "Probes several endpoints at once for a probe pod; one result line each.")
public final class BatchCommand implements Callable<Integer> {
  /** Separates endpoints' arguments; no host, name, duration or mode is a lone plus sign. */
  public static final String SEPARATOR = "+";

  @Spec CommandSpec spec;

  @Option(
      names = "--result-file",
      paramLabel = "FILE",
      required = true,
      description = "Where the results go, at most 4096 bytes.")
  Path resultFile;

  @Parameters(paramLabel = "ARGS", description = "Each endpoint's probe arguments, split by +.")
  List<String> words = new ArrayList<>();

  @Override
  public Integer call() throws IOException, InterruptedException {
    List<List<String>> members = split(words);
    ExecutorService pool = Executors.newFixedThreadPool(members.size());
    List<Future<BatchCodec.Entry>> running = new ArrayList<>();
    try {
      for (List<String> args : members) {
        running.add(pool.submit(() -> probe(args)));
      }
      List<BatchCodec.Entry> entries = new ArrayList<>();
      for (Future<BatchCodec.Entry> f : running) {
        entries.add(entry(f));
      }
      Files.writeString(
          resultFile,
          BatchCodec.encode(entries, ReportCodec.TERMINATION_MESSAGE_LIMIT),
          StandardCharsets.UTF_8);
      return print(members, entries);
    } finally {
      pool.shutdownNow();
    }
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

  private static BatchCodec.Entry probe(List<String> args) throws IOException {
    ProbeCommand probe = new ProbeCommand();
    try {
      new CommandLine(probe).parseArgs(args.toArray(String[]::new));
      return BatchCodec.Entry.probed(probe.report());
    } catch (CommandLine.ParameterException e) {
      return BatchCodec.Entry.failed(e.getMessage());
    }
  }

  private static BatchCodec.Entry entry(Future<BatchCodec.Entry> f) throws InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
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
