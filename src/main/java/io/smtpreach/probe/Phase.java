package io.smtpreach.probe;

/** The timed steps of one probe, in the order they happen. */
public enum Phase {
  DNS,
  CONNECT,
  GREETING,
  EHLO,
  STARTTLS,
  TLS_HANDSHAKE,
  AUTH,
  TOTAL;

  /** Lower-case key used in JSON and metric labels ({@code tls_handshake}). */
  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static Phase fromKey(String key) {
    return valueOf(key.toUpperCase(java.util.Locale.ROOT));
  }
}
