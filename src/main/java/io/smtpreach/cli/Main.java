package io.smtpreach.cli;

import java.util.Arrays;
import picocli.CommandLine;

/** The {@code smtp-reach} command. A plain main: the probe path never boots Quarkus. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command and returns its exit code (see {@link ExitCodes}). */
  public static int run(String... args) {
    // A probe pod's command goes straight to its subcommand: building the whole command tree's
    // model first (the probe command's eighteen options among it) costs start-up every round.
    boolean batch = args.length > 0 && args[0].equals("batch");
    CommandLine cli;
    if (batch) {
      cli = new CommandLine(new BatchCommand().spec);
      args = Arrays.copyOfRange(args, 1, args.length);
    } else {
      cli =
          new CommandLine(new SmtpReachCommand())
              .addSubcommand(new CommandLine(new ProbeCommand().spec))
              .addSubcommand(new CommandLine(new BatchCommand().spec))
              .addSubcommand(new CommandLine(new AgentCommand().spec));
    }
    // As the subcommands' own models say (ProbeCommand.dataOnly): the top level reads @files too.
    cli.setExpandAtFiles(false);
    String[] all = args;
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("smtp-reach: " + e.getMessage());
          if (asksForNagios(commandLine, all)) {
            return unknown(commandLine, "the probe could not run: " + e.getMessage());
          }
          return ExitCodes.PROBE_ERROR;
        });
    cli.setParameterExceptionHandler(
        (e, args1) -> {
          CommandLine c = e.getCommandLine();
          c.getErr().println("smtp-reach: " + e.getMessage());
          c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
          if (asksForNagios(c, all)) {
            return unknown(c, "usage: " + e.getMessage());
          }
          return ExitCodes.USAGE;
        });
    return cli.execute(args);
  }

  /**
   * Whether the failed command is {@code probe --output nagios}: Nagios reads UNKNOWN (3) and a
   * status line on stdout from a plugin that was called wrongly or could not run, never 2, which
   * would be CRITICAL.
   */
  private static boolean asksForNagios(CommandLine failed, String[] args) {
    if (!(failed.getCommandSpec().userObject() instanceof ProbeCommand)) {
      return false;
    }
    int probe = Arrays.asList(args).indexOf("probe");
    return ProbeCommand.asksForNagios(Arrays.copyOfRange(args, probe + 1, args.length));
  }

  private static int unknown(CommandLine failed, String message) {
    failed.getOut().println(NagiosRenderer.unknown(message));
    failed.getOut().flush();
    return NagiosStatus.UNKNOWN.exitCode();
  }
}
