package io.smtpreach.probe;

import java.time.Duration;

/** Short human durations for messages and tables: {@code 5s}, {@code 1.5s}, {@code 320ms}. */
public final class Durations {
  private Durations() {}

  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    if (ms % 1000 == 0) {
      return (ms / 1000) + "s";
    }
    return String.format(java.util.Locale.ROOT, "%.1fs", ms / 1000.0);
  }

  /** Parses {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, or ISO-8601 {@code PT5S}. */
  public static Duration parse(String text) {
    String t = text.trim();
    try {
      if (t.startsWith("P") || t.startsWith("p")) {
        return Duration.parse(t);
      }
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      return switch (t.charAt(t.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 500ms, 5s, 2m)");
    }
  }
}
