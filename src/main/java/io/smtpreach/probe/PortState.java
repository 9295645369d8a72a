package io.smtpreach.probe;

/**
 * The coarse verdict on one port, the value people alert on. Each {@link Reason} belongs to exactly
 * one state; the reason says precisely what happened.
 */
public enum PortState {
  /** The SMTP dialogue completed in the asked TLS mode. */
  REACHABLE("Reachable"),
  /** The connection attempt timed out: packets are silently dropped on the way. */
  BLOCKED("Blocked"),
  /** Actively refused: TCP RST or ICMP port unreachable, at connect or mid-dialogue. */
  REFUSED("Refused"),
  /** No route: ICMP network or host unreachable. */
  UNREACHABLE("Unreachable"),
  /** The host name could not be resolved. */
  DNS_FAILURE("DnsFailure"),
  /** A server answered but refused to serve us (421/554 greeting, EHLO or AUTH rejected). */
  REJECTED("Rejected"),
  /** The port speaks implicit TLS where plaintext was expected, or the reverse. */
  MODE_MISMATCH("ModeMismatch"),
  /** SMTP works but TLS does not: STARTTLS missing or refused, handshake or certificate failure. */
  TLS_FAILURE("TlsFailure"),
  /** Connected, but what came back is not a usable SMTP dialogue (silence, garbage, overlong). */
  PROTOCOL_ERROR("ProtocolError"),
  /**
   * The probe itself could not check the port (bad CA bundle, internal error): not a network
   * verdict.
   */
  ERROR("Error");

  private final String displayName;

  PortState(String displayName) {
    this.displayName = displayName;
  }

  /** CamelCase name used in tables, the API and metrics. */
  public String displayName() {
    return displayName;
  }

  /** True for the states a firewall produces: what {@code expect: Blocked} asks for. */
  public boolean isBlocked() {
    return this == BLOCKED || this == REFUSED || this == UNREACHABLE;
  }

  public static PortState fromDisplayName(String name) {
    for (PortState s : values()) {
      if (s.displayName.equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown port state '" + name + "'");
  }
}
