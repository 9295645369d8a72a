package io.smtpreach.probe;

import java.util.Locale;

/** What a team expects of a port: that it works, that it is closed on purpose, or nothing. */
public enum Expectation {
  REACHABLE,
  BLOCKED,
  ANY;

  public boolean isMetBy(PortState state) {
    return switch (this) {
      case REACHABLE -> state == PortState.REACHABLE;
      case BLOCKED -> state.isBlocked();
      case ANY -> true;
    };
  }

  public static Expectation parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "reachable", "open" -> REACHABLE;
      case "blocked", "closed" -> BLOCKED;
      case "any" -> ANY;
      default ->
          throw new IllegalArgumentException(
              "unknown expectation '" + text + "' (expected reachable, blocked or any)");
    };
  }
}
