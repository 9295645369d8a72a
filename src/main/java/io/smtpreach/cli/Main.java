package io.smtpreach.cli;

import picocli.CommandLine;

/** The {@code smtp-reach} command. A plain main: the probe path never boots Quarkus. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command and returns its exit code (see {@link ExitCodes}). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new SmtpReachCommand());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("smtp-reach: " + e.getMessage());
          return ExitCodes.PROBE_ERROR;
        });
    cli.setParameterExceptionHandler(
        (e, args1) -> {
          CommandLine c = e.getCommandLine();
          c.getErr().println("smtp-reach: " + e.getMessage());
          c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
          return ExitCodes.USAGE;
        });
    return cli.execute(args);
  }
}
