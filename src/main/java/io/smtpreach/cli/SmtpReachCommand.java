package io.smtpreach.cli;

import picocli.CommandLine.Command;

/** The top-level command; its work is in the subcommands ({@link Main} adds them). */
@Command(
    name = "smtp-reach",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description =
        "Tells whether SMTP servers can be reached on each port and TLS mode, and why not.")
public final class SmtpReachCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }
}
