package io.smtpreach.status;

/**
 * A port whose state changed from one source: what becomes a Kubernetes Event.
 *
 * @param label {@code 587/StartTLS}
 * @param previousState null the first time the port is probed from the source
 * @param asExpected whether the new state matches the port's expectation
 */
public record PortChange(
    String label,
    String source,
    String previousState,
    String state,
    String reason,
    String message,
    boolean asExpected) {

  /** {@code PortBlocked}, {@code PortReachable}, ... */
  public String eventReason() {
    return "Port" + state;
  }

  /** "587/StartTLS from zone-b is now Blocked: connect to ... timed out after 5s". */
  public String eventMessage() {
    String from = source.equals(StatusAggregator.ANY_SOURCE) ? "" : " from " + source;
    String was = previousState == null ? "" : " (was " + previousState + ")";
    return label + from + " is now " + state + was + ": " + message;
  }
}
