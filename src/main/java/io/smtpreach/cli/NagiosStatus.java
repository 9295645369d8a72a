package io.smtpreach.cli;

/**
 * The Nagios plugin API's service states and their exit codes, which {@code --output nagios}
 * returns instead of {@link ExitCodes} so that Nagios, Icinga and Checkmk read the verdict as they
 * read check_smtp's.
 */
enum NagiosStatus {
  OK(0, 0),
  WARNING(1, 2),
  CRITICAL(2, 3),
  UNKNOWN(3, 1);

  private final int exitCode;

  /**
   * Which state wins when ports disagree: OK, UNKNOWN, WARNING, CRITICAL, in that order, as
   * monitoring-plugins' {@code max_state_alt} ranks them. A port the probe could not check does not
   * hide another port's warning, and nothing hides a critical.
   */
  private final int severity;

  NagiosStatus(int exitCode, int severity) {
    this.exitCode = exitCode;
    this.severity = severity;
  }

  int exitCode() {
    return exitCode;
  }

  NagiosStatus worse(NagiosStatus other) {
    return other.severity > severity ? other : this;
  }
}
