package io.smtpreach.metrics;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The text {@link EndpointMetrics} writes, and its samples read back as Prometheus parses them. */
record Exposition(String text, List<Exposition.Sample> samples) {
  /** A sample as the Prometheus client library models one. */
  static final class Sample {
    final String name;
    final List<String> labelNames;
    final List<String> labelValues;
    final double value;

    Sample(String name, List<String> labelNames, List<String> labelValues, double value) {
      this.name = name;
      this.labelNames = labelNames;
      this.labelValues = labelValues;
      this.value = value;
    }
  }

  static Exposition of(EndpointMetrics metrics) {
    StringWriter text = new StringWriter();
    try {
      metrics.writeTo(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Sample> samples = new ArrayList<>();
    text.toString().lines().filter(l -> !l.startsWith("#")).forEach(l -> samples.add(parse(l)));
    return new Exposition(text.toString(), samples);
  }

  List<Sample> samples(String name) {
    return samples.stream().filter(s -> s.name.equals(name)).toList();
  }

  /** {@code name{a="x",b="y\"z",} 1.0}, with the escapes of the format undone. */
  private static Sample parse(String line) {
    int brace = line.indexOf('{');
    int space = line.lastIndexOf(' ');
    double value = Double.parseDouble(line.substring(space + 1));
    if (brace < 0) {
      return new Sample(line.substring(0, space), List.of(), List.of(), value);
    }
    List<String> names = new ArrayList<>();
    List<String> values = new ArrayList<>();
    int i = brace + 1;
    while (line.charAt(i) != '}') {
      int equals = line.indexOf("=\"", i);
      names.add(line.substring(i, equals));
      StringBuilder v = new StringBuilder();
      for (i = equals + 2; line.charAt(i) != '"'; i++) {
        char c = line.charAt(i);
        if (c == '\\') {
          char next = line.charAt(++i);
          v.append(next == 'n' ? '\n' : next);
        } else {
          v.append(c);
        }
      }
      values.add(v.toString());
      i += 2; // the closing quote and the comma
    }
    return new Sample(line.substring(0, brace), names, values, value);
  }
}
