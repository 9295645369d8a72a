package io.smtpreach.cli;

/**
 * The exit codes of {@code smtp-reach}, as documented in its help. {@code probe --output nagios}
 * exits with the Nagios plugin API's codes instead ({@link NagiosStatus}): there 2 is CRITICAL, so
 * a usage error is 3, UNKNOWN.
 */
public final class ExitCodes {
  /** Every port as expected (reachable unless told otherwise). */
  public static final int AS_EXPECTED = 0;

  /** At least one port not as expected; the output says which and why. */
  public static final int NOT_AS_EXPECTED = 1;

  /** Bad command line or options. */
  public static final int USAGE = 2;

  /** The probe could not run at all (not a verdict on any port). */
  public static final int PROBE_ERROR = 3;

  private ExitCodes() {}
}
