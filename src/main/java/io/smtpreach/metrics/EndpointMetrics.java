package io.smtpreach.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.probe.PortState;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import io.smtpreach.status.StatusAggregator.RoundOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Prometheus series of every endpoint, derived from its status so that they survive an operator
 * restart, and removed with the endpoint. Labels are bounded: names, ports, modes, sources, and
 * closed sets (state, reason, phase); never addresses or messages.
 */
public final class EndpointMetrics {
  public static final String PORT_UP = "smtp_reach_port_up";
  public static final String PORT_STATE = "smtp_reach_port_state";
  public static final String PORT_REASON = "smtp_reach_port_reason";
  public static final String PORT_AS_EXPECTED = "smtp_reach_port_as_expected";
  public static final String PHASE_SECONDS = "smtp_reach_probe_phase_seconds";
  public static final String CERT_NOT_AFTER = "smtp_reach_certificate_not_after_seconds";
  public static final String SECURE_SUBMISSION = "smtp_reach_secure_submission_available";
  public static final String READY = "smtp_reach_endpoint_ready";
  public static final String PROBES_RUNNING = "smtp_reach_probes_running";
  public static final String LAST_SUCCESS = "smtp_reach_last_successful_round_timestamp_seconds";
  public static final String INTERVAL = "smtp_reach_probe_interval_seconds";
  public static final String ROUNDS = "smtp_reach_probe_rounds";

  private final MeterRegistry registry;

  /** A gauge's name and labels. */
  private record SeriesId(String name, Tags tags) {}

  /** Per endpoint ({@code namespace/name}): its gauges, each with its value. */
  private final Map<String, Map<SeriesId, Series>> endpoints = new ConcurrentHashMap<>();

  private final Map<String, Set<Counter>> counters = new ConcurrentHashMap<>();

  private static final class Series {
    volatile double value;
    Meter meter;
  }

  public EndpointMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Sets the endpoint's series to what its status says; series it no longer has go away. */
  public void update(String namespace, String name, SmtpEndpointStatus status, Duration interval) {
    Map<SeriesId, Double> values = new HashMap<>();
    Tags endpoint = Tags.of("namespace", namespace, "endpoint", name);
    values.put(new SeriesId(INTERVAL, endpoint), (double) interval.toSeconds());
    if (status != null) {
      gauges(values, endpoint, status);
    }
    String key = namespace + "/" + name;
    Map<SeriesId, Series> current = endpoints.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
    synchronized (current) {
      for (Map.Entry<SeriesId, Double> e : values.entrySet()) {
        Series s = current.get(e.getKey());
        if (s == null) {
          Series holder = new Series();
          holder.meter =
              Gauge.builder(e.getKey().name(), holder, h -> h.value)
                  .tags(e.getKey().tags())
                  .register(registry);
          current.put(e.getKey(), holder);
          s = holder;
        }
        s.value = e.getValue();
      }
      for (SeriesId gone : new HashSet<>(current.keySet())) {
        if (!values.containsKey(gone)) {
          registry.remove(current.remove(gone).meter);
        }
      }
    }
  }

  /** Counts a finished round by how it went. */
  public void roundFinished(String namespace, String name, RoundOutcome outcome) {
    Counter c =
        Counter.builder(ROUNDS)
            .description("Probe rounds by outcome: Succeeded, Partial (some sources), Failed")
            .tags("namespace", namespace, "endpoint", name, "outcome", outcome.name())
            .register(registry);
    counters.computeIfAbsent(namespace + "/" + name, k -> ConcurrentHashMap.newKeySet()).add(c);
    c.increment();
  }

  /** Removes the series of every endpoint for which {@code exists(namespace, name)} is false. */
  public void retainOnly(java.util.function.BiPredicate<String, String> exists) {
    Set<String> keys = new HashSet<>(endpoints.keySet());
    keys.addAll(counters.keySet());
    for (String key : keys) {
      int slash = key.indexOf('/');
      String namespace = key.substring(0, slash);
      String name = key.substring(slash + 1);
      if (!exists.test(namespace, name)) {
        remove(namespace, name);
      }
    }
  }

  /** Removes every series of a deleted endpoint. */
  public void remove(String namespace, String name) {
    String key = namespace + "/" + name;
    Map<SeriesId, Series> gone = endpoints.remove(key);
    if (gone != null) {
      synchronized (gone) {
        gone.values().forEach(s -> registry.remove(s.meter));
      }
    }
    Set<Counter> c = counters.remove(key);
    if (c != null) {
      c.forEach(registry::remove);
    }
  }

  private static void gauges(
      Map<SeriesId, Double> values, Tags endpoint, SmtpEndpointStatus status) {
    condition(values, READY, endpoint, status, ConditionTypes.READY);
    condition(
        values, SECURE_SUBMISSION, endpoint, status, ConditionTypes.SECURE_SUBMISSION_AVAILABLE);
    condition(values, PROBES_RUNNING, endpoint, status, ConditionTypes.PROBES_RUNNING);
    if (status.lastSuccessfulProbeTime != null) {
      values.put(
          new SeriesId(LAST_SUCCESS, endpoint), epochSeconds(status.lastSuccessfulProbeTime));
    }
    for (PortStatus p : status.ports) {
      for (SourceStatus s : p.sources) {
        Tags series =
            endpoint.and(
                Tag.of("port", String.valueOf(p.port)),
                Tag.of("mode", p.tls),
                Tag.of("source", s.name));
        values.put(
            new SeriesId(PORT_UP, series), bit(PortState.REACHABLE.displayName().equals(s.state)));
        for (PortState state : PortState.values()) {
          values.put(
              new SeriesId(PORT_STATE, series.and("state", state.displayName())),
              bit(state.displayName().equals(s.state)));
        }
        values.put(new SeriesId(PORT_REASON, series.and("reason", s.reason)), 1.0);
        values.put(
            new SeriesId(PORT_AS_EXPECTED, series.and("expect", p.expect)),
            bit(Boolean.TRUE.equals(s.asExpected)));
        if (s.timings != null) {
          PortStatus.Timings t = s.timings;
          Map<String, Long> phases = new HashMap<>();
          phases.put("dns", t.dns);
          phases.put("connect", t.connect);
          phases.put("greeting", t.greeting);
          phases.put("ehlo", t.ehlo);
          phases.put("starttls", t.starttls);
          phases.put("tls_handshake", t.tls);
          phases.put("total", t.total);
          phases.forEach(
              (phase, ms) -> {
                if (ms != null) {
                  values.put(new SeriesId(PHASE_SECONDS, series.and("phase", phase)), ms / 1000.0);
                }
              });
        }
        if (s.certificateNotAfter != null) {
          values.put(new SeriesId(CERT_NOT_AFTER, series), epochSeconds(s.certificateNotAfter));
        }
      }
    }
  }

  private static double epochSeconds(String timestamp) {
    return Instant.parse(timestamp).getEpochSecond();
  }

  private static double bit(boolean b) {
    return b ? 1 : 0;
  }

  /** 1 for True, 0 for False, no series while Unknown (nothing probed, or nothing to say). */
  private static void condition(
      Map<SeriesId, Double> values,
      String metric,
      Tags endpoint,
      SmtpEndpointStatus status,
      String type) {
    Conditions.find(status.conditions, type)
        .filter(c -> !"Unknown".equals(c.getStatus()))
        .ifPresent(
            c -> values.put(new SeriesId(metric, endpoint), bit("True".equals(c.getStatus()))));
  }
}
