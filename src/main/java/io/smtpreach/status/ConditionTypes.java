package io.smtpreach.status;

/** The condition types of an SmtpEndpoint and their reasons, as CamelCase constants. */
public final class ConditionTypes {
  private ConditionTypes() {}

  /** Every port matches its expectation from every source. */
  public static final String READY = "Ready";

  public static final String ALL_PORTS_AS_EXPECTED = "AllPortsAsExpected";
  public static final String PORTS_NOT_AS_EXPECTED = "PortsNotAsExpected";
  public static final String NOT_PROBED_YET = "NotProbedYet";

  /** At least one of 587/465/2525 works with TLS from every source. */
  public static final String SECURE_SUBMISSION_AVAILABLE = "SecureSubmissionAvailable";

  public static final String SECURE_PORT_REACHABLE = "SecurePortReachable";
  public static final String NO_SECURE_SUBMISSION_PORT = "NoSecureSubmissionPort";
  public static final String NO_SUBMISSION_PORT_PROBED = "NoSubmissionPortProbed";

  /** The last round ran from every source; False reasons are {@link ProbeRunFailure} names. */
  public static final String PROBES_RUNNING = "ProbesRunning";

  public static final String ROUND_SUCCEEDED = "RoundSucceeded";
  public static final String FIRST_ROUND_PENDING = "FirstRoundPending";
}
