package io.smtpreach.probe;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

  private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");

  /**
   * Parses Go-style durations as Kubernetes users write them ({@code 500ms}, {@code 5s}, {@code
   * 1m30s}, {@code 1.5h}), or ISO-8601 ({@code PT5S}).
   */
  public static Duration parse(String text) {
    String t = text.trim();
    try {
      if (t.startsWith("P") || t.startsWith("p")) {
        return Duration.parse(t);
      }
      Matcher m = PART.matcher(t);
      Duration total = Duration.ZERO;
      int end = 0;
      while (m.find() && m.start() == end) {
        long unitNanos =
            switch (m.group(2)) {
              case "ms" -> 1_000_000L;
              case "s" -> 1_000_000_000L;
              case "m" -> 60_000_000_000L;
              default -> 3_600_000_000_000L;
            };
        total =
            total.plusNanos(
                new BigDecimal(m.group(1))
                    .multiply(BigDecimal.valueOf(unitNanos))
                    .longValueExact());
        end = m.end();
      }
      if (end == 0 || end != t.length()) {
        throw new NumberFormatException();
      }
      return total;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 500ms, 5s, 2m)");
    }
  }
}
