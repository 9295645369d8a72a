package io.smtpreach.status;

/**
 * A port whose state changed from one source: what becomes a Kubernetes Event.
 *
 * @param label {@code 587/StartTLS}
 * @param family {@code IPv4} or {@code IPv6} with ipFamily Each, else null
 * @param previousState null the first time the port is probed from the source
 * @param asExpected whether the new state matches the port's expectation
 */
public record PortChange(
    String label,
    String source,
    String family,
    String previousState,
    String state,
    String reason,
    String message,
    boolean asExpected) {

  /** {@code PortBlocked}, {@code PortReachable}, ... */
  public String eventReason() {
    return "Port" + state;
  }

  /**
   * "587/StartTLS from zone-b is now Blocked: connect to ... timed out after 5s", with " over IPv6"
   * after the source when each family is probed apart.
   */
  public String eventMessage() {
    String from = source.equals(StatusAggregator.ANY_SOURCE) ? "" : " from " + source;
    String over = family == null ? "" : " over " + family;
    String was = previousState == null ? "" : " (was " + previousState + ")";
    return label + from + over + " is now " + state + was + ": " + message;
  }
}
