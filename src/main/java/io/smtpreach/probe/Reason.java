package io.smtpreach.probe;

/** Why a port is in its state: a closed set, each mapped to one {@link PortState}. */
public enum Reason {
  OK(PortState.REACHABLE),

  NO_SUCH_HOST(PortState.DNS_FAILURE),
  NO_ADDRESS(PortState.DNS_FAILURE),
  NULL_MX(PortState.DNS_FAILURE),
  DNS_TIMEOUT(PortState.DNS_FAILURE),
  DNS_ERROR(PortState.DNS_FAILURE),

  CONNECT_TIMEOUT(PortState.BLOCKED),
  CONNECTION_REFUSED(PortState.REFUSED),
  CONNECTION_RESET(PortState.REFUSED),
  NETWORK_UNREACHABLE(PortState.UNREACHABLE),
  HOST_UNREACHABLE(PortState.UNREACHABLE),

  GREETING_REJECTED(PortState.REJECTED),
  EHLO_REJECTED(PortState.REJECTED),
  AUTH_FAILED(PortState.REJECTED),
  AUTH_NOT_OFFERED(PortState.REJECTED),

  TLS_ON_PLAINTEXT_PORT(PortState.MODE_MISMATCH),
  PLAINTEXT_ON_TLS_PORT(PortState.MODE_MISMATCH),

  STARTTLS_NOT_OFFERED(PortState.TLS_FAILURE),
  STARTTLS_REFUSED(PortState.TLS_FAILURE),
  TLS_VERSION_MISMATCH(PortState.TLS_FAILURE),
  TLS_HANDSHAKE_FAILED(PortState.TLS_FAILURE),
  CERT_EXPIRED(PortState.TLS_FAILURE),
  CERT_NOT_YET_VALID(PortState.TLS_FAILURE),
  CERT_UNTRUSTED(PortState.TLS_FAILURE),
  CERT_HOSTNAME_MISMATCH(PortState.TLS_FAILURE),

  NO_GREETING(PortState.PROTOCOL_ERROR),
  NOT_SMTP(PortState.PROTOCOL_ERROR),
  REPLY_TOO_LONG(PortState.PROTOCOL_ERROR),
  UNEXPECTED_REPLY(PortState.PROTOCOL_ERROR),
  READ_TIMEOUT(PortState.PROTOCOL_ERROR),
  CONNECTION_CLOSED(PortState.PROTOCOL_ERROR),

  PROBE_ERROR(PortState.ERROR);

  private final PortState state;
  private final String displayName;

  Reason(PortState state) {
    this.state = state;
    this.displayName = camelCase(name());
  }

  public PortState state() {
    return state;
  }

  /** CamelCase name (e.g. {@code ConnectTimeout}) used in tables, the API, Events and metrics. */
  public String displayName() {
    return displayName;
  }

  public static Reason fromDisplayName(String name) {
    for (Reason r : values()) {
      if (r.displayName.equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown reason '" + name + "'");
  }

  private static String camelCase(String constant) {
    StringBuilder out = new StringBuilder();
    for (String word : constant.split("_")) {
      out.append(word.charAt(0)).append(word.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return out.toString().replace("Starttls", "StartTls");
  }
}
