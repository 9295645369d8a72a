package io.smtpreach.probe;

import java.util.Locale;

/** How a port is expected to speak TLS. */
public enum TlsMode {
  /** Plaintext SMTP; STARTTLS is never attempted. */
  NONE,
  /** Plaintext greeting, then STARTTLS is required (RFC 3207, the 587 and 2525 way). */
  STARTTLS,
  /** TLS from the first byte, then the greeting (RFC 8314, the 465 way). */
  IMPLICIT,
  /**
   * Whatever the port speaks: implicit TLS if it is silent and answers a ClientHello, else
   * plaintext upgraded with STARTTLS when offered.
   */
  AUTO;

  /**
   * Parses {@code starttls}, {@code implicit}, {@code none}, {@code auto} and the common aliases.
   */
  public static TlsMode parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    return switch (t) {
      case "none", "plain", "plaintext" -> NONE;
      case "starttls", "start-tls" -> STARTTLS;
      case "implicit", "tls", "ssl", "smtps" -> IMPLICIT;
      case "auto" -> AUTO;
      default ->
          throw new IllegalArgumentException(
              "unknown TLS mode '" + text + "' (expected none, starttls, implicit or auto)");
    };
  }

  /** The display name used in tables, Events and the API: {@code None}, {@code StartTLS}, ... */
  public String displayName() {
    return switch (this) {
      case NONE -> "None";
      case STARTTLS -> "StartTLS";
      case IMPLICIT -> "Implicit";
      case AUTO -> "Auto";
    };
  }
}
