package io.smtpreach.probe;

/** Ends a probe with a reason; thrown inside the engine only, never to its callers. */
final class ProbeFailure extends Exception {
  private final Reason reason;

  ProbeFailure(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  Reason reason() {
    return reason;
  }
}
