package io.smtpreach.bench;

import io.smtpreach.bench.DetectionLatencyBench.Run;
import io.smtpreach.bench.DetectionLatencyBench.Signal;
import io.smtpreach.bench.DetectionLatencyBench.Variant;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The detection benchmark's runs as Markdown: the settings, one row of median, min and max per
 * variant and signal beside the signal's bound, then every run, so that a median can be checked
 * against what it summarises.
 */
final class DetectionReport {
  /** What the runs were made with; the bounds follow from it. */
  record Settings(
      Duration interval,
      Duration connectTimeout,
      Duration scrapeInterval,
      Duration evaluationInterval,
      Duration pollPeriod,
      int runs,
      String machine) {

    /**
     * interval + connect timeout + scrape interval, and for the alert the evaluation interval too.
     */
    Duration bound(Signal signal) {
      Duration b = interval.plus(connectTimeout).plus(scrapeInterval);
      return signal == Signal.ALERT ? b.plus(evaluationInterval) : b;
    }
  }

  private DetectionReport() {}

  static String render(Settings settings, List<Run> runs) {
    StringBuilder out = new StringBuilder();
    out.append("# Detection latency (make bench-detection)\n\n")
        .append(
            "Interval %s (the CRD's minimum), connectTimeout %s, Prometheus scrape %s and rule evaluation %s, shipped rules with every `for:` set to 0s; %d run(s) per variant; %s.\n"
                .formatted(
                    setting(settings.interval()),
                    setting(settings.connectTimeout()),
                    setting(settings.scrapeInterval()),
                    setting(settings.evaluationInterval()),
                    settings.runs(),
                    settings.machine()))
        .append(
            "Times from the DROP rule in place; the Event by its arrival on a watch, the rest by the first poll (every %d ms) that shows it. Interval runs drop 587 at evenly spread points of the interval (run i of n at (i - 0.5)/n of it after a round start; the rounds started at the same fraction of the scrape interval after a scrape); probe-now runs drop it at evenly spread points of the scrape interval and set the annotation right after. I: interval, C: connect timeout, S: scrape interval, E: evaluation interval.\n\n"
                .formatted(settings.pollPeriod().toMillis()))
        .append("| variant | signal | median | min | max | bound | runs within bound |\n")
        .append("|---|---|---|---|---|---|---|\n");
    for (Variant v : Variant.values()) {
      for (Signal s : Signal.values()) {
        List<Duration> values =
            runs.stream()
                .filter(r -> r.variant() == v)
                .map(r -> r.latency().get(s))
                .sorted()
                .toList();
        if (values.isEmpty()) {
          continue;
        }
        out.append(
            "| %s | %s | %s | %s | %s | %s |\n"
                .formatted(
                    v.label,
                    s.label,
                    seconds(median(values)),
                    seconds(values.get(0)),
                    seconds(values.get(values.size() - 1)),
                    bound(settings, v, s, values)));
      }
    }
    out.append("\n| variant | run | drop at | ");
    for (Signal s : Signal.values()) {
      out.append(s.shortLabel).append(" | ");
    }
    out.append("587 then |\n|---|---|---|");
    out.append("---|".repeat(Signal.values().length)).append("---|\n");
    for (Run r : runs) {
      out.append("| %s | %d | %s | ".formatted(r.variant().label, r.index() + 1, phase(r)));
      for (Signal s : Signal.values()) {
        out.append(seconds(r.latency().get(s))).append(" | ");
      }
      out.append(r.verdict()).append(" |\n");
    }
    return out.toString();
  }

  /**
   * The interval's bound and how many runs kept it; probe-now starts a round at once, so no setting
   * bounds it but the connect timeout and the probe pod's start.
   */
  private static String bound(Settings settings, Variant v, Signal s, List<Duration> values) {
    if (v == Variant.PROBE_NOW) {
      return "– | –";
    }
    Duration bound = settings.bound(s);
    long within = values.stream().filter(d -> d.compareTo(bound) <= 0).count();
    return "%s (%s) | %d/%d"
        .formatted(setting(bound), s == Signal.ALERT ? "I+C+S+E" : "I+C+S", within, values.size());
  }

  static Duration median(List<Duration> sorted) {
    int n = sorted.size();
    return n % 2 == 1
        ? sorted.get(n / 2)
        : sorted.get(n / 2 - 1).plus(sorted.get(n / 2)).dividedBy(2);
  }

  private static String phase(Run r) {
    return (r.variant() == Variant.INTERVAL ? "round start + " : "scrape + ") + seconds(r.phase());
  }

  /** A setting, in whole seconds when it is whole. */
  private static String setting(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : seconds(d);
  }

  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1e3);
  }
}
