package io.smtpreach.probe;

import java.util.List;
import java.util.Locale;

/** One port to probe, how it should speak TLS, and what is expected of it. */
public record ProbeTarget(int port, TlsMode mode, Expectation expect) {

  /** The four ports the SMTP guides talk about, with their usual modes; 25 is often blocked. */
  public static final List<ProbeTarget> DEFAULTS =
      List.of(
          new ProbeTarget(587, TlsMode.STARTTLS, Expectation.REACHABLE),
          new ProbeTarget(465, TlsMode.IMPLICIT, Expectation.REACHABLE),
          new ProbeTarget(2525, TlsMode.STARTTLS, Expectation.REACHABLE),
          new ProbeTarget(25, TlsMode.AUTO, Expectation.ANY));

  public ProbeTarget {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 1-65535");
    }
    if (mode == null || expect == null) {
      throw new IllegalArgumentException("mode and expectation are required");
    }
  }

  public ProbeTarget(int port, TlsMode mode) {
    this(port, mode, Expectation.REACHABLE);
  }

  /**
   * Parses {@code PORT[:MODE[:EXPECT]]}, e.g. {@code 587}, {@code 465:implicit}, {@code
   * 25:starttls:blocked}. A bare port takes its usual mode (465 implicit, 25 auto, else STARTTLS).
   */
  public static ProbeTarget parse(String text) {
    String[] parts = text.trim().split(":", -1);
    if (parts.length > 3 || parts[0].isEmpty()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not PORT[:MODE[:EXPECT]] (e.g. 587:starttls or 25:auto:blocked)");
    }
    int port;
    try {
      port = Integer.parseInt(parts[0]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + parts[0] + "' is not a port number");
    }
    TlsMode mode = parts.length > 1 ? TlsMode.parse(parts[1]) : usualMode(port);
    Expectation expect =
        parts.length > 2
            ? Expectation.parse(parts[2])
            : port == 25 ? Expectation.ANY : Expectation.REACHABLE;
    return new ProbeTarget(port, mode, expect);
  }

  /** The mode a port speaks by convention. */
  public static TlsMode usualMode(int port) {
    return switch (port) {
      case 465 -> TlsMode.IMPLICIT;
      case 25 -> TlsMode.AUTO;
      default -> TlsMode.STARTTLS;
    };
  }

  /** {@code 587/StartTLS}. */
  public String label() {
    return port + "/" + mode.displayName();
  }

  @Override
  public String toString() {
    return port
        + ":"
        + mode.name().toLowerCase(Locale.ROOT)
        + ":"
        + expect.name().toLowerCase(Locale.ROOT);
  }
}
