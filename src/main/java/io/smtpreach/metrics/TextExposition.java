package io.smtpreach.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/**
 * Writes metric families in the Prometheus text format, version 0.0.4, as the Prometheus client
 * library does: a HELP and a TYPE line per family, then its samples. Write failures are unchecked,
 * so that rendering code can call it from lambdas; {@link EndpointMetrics} unwraps them.
 */
final class TextExposition {
  private final Writer out;

  TextExposition(Writer out) {
    this.out = out;
  }

  void family(String name, String type, String help) {
    write("# HELP " + name + " " + escape(help, false) + "\n# TYPE " + name + " " + type + "\n");
  }

  void sample(String name, List<String> labelNames, List<String> labelValues, double value) {
    StringBuilder line = new StringBuilder(160).append(name);
    if (!labelNames.isEmpty()) {
      line.append('{');
      for (int i = 0; i < labelNames.size(); i++) {
        line.append(labelNames.get(i))
            .append("=\"")
            .append(escape(labelValues.get(i), true))
            .append("\",");
      }
      line.append('}');
    }
    write(line.append(' ').append(number(value)).append('\n').toString());
  }

  private void write(String s) {
    try {
      out.write(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Backslash and newline always; the double quote only inside a label value. */
  private static String escape(String s, boolean quote) {
    if (s.indexOf('\\') < 0 && s.indexOf('\n') < 0 && !(quote && s.indexOf('"') >= 0)) {
      return s;
    }
    String escaped = s.replace("\\", "\\\\").replace("\n", "\\n");
    return quote ? escaped.replace("\"", "\\\"") : escaped;
  }

  /** As Go prints floats, which is what Prometheus parses. */
  private static String number(double v) {
    if (v == Double.POSITIVE_INFINITY) {
      return "+Inf";
    }
    if (v == Double.NEGATIVE_INFINITY) {
      return "-Inf";
    }
    return Double.toString(v);
  }
}
