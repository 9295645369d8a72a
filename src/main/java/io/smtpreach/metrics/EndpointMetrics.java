package io.smtpreach.metrics;

import io.fabric8.kubernetes.api.model.Condition;
import io.smtpreach.api.EgressStatus;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.probe.PortState;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import io.smtpreach.status.StatusAggregator.RoundOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The Prometheus series of every endpoint, rendered at scrape time from the endpoints' statuses in
 * the operator's informer cache: they survive an operator restart, go with their endpoint, and cost
 * no memory between scrapes (a meter per series was 170 MB at 5,000 endpoints, docs/benchmarks.md),
 * and a scrape writes them out as it renders them ({@link MetricsRoute}). Labels are bounded:
 * names, ports, modes, sources, and closed sets (family, state, reason, phase); never messages, and
 * addresses only in {@code smtp_reach_egress_info}, one series per source. Only the round counters
 * are kept here, as they are not in the status.
 */
public final class EndpointMetrics {
  public static final String PORT_UP = "smtp_reach_port_up";
  public static final String PORT_STATE = "smtp_reach_port_state";
  public static final String PORT_REASON = "smtp_reach_port_reason";
  public static final String PORT_AS_EXPECTED = "smtp_reach_port_as_expected";
  public static final String PHASE_SECONDS = "smtp_reach_probe_phase_seconds";
  public static final String CERT_NOT_AFTER = "smtp_reach_certificate_not_after_seconds";
  public static final String TLS_INFO = "smtp_reach_tls_info";
  public static final String SECURE_SUBMISSION = "smtp_reach_secure_submission_available";
  public static final String READY = "smtp_reach_endpoint_ready";
  public static final String PROBES_RUNNING = "smtp_reach_probes_running";
  public static final String LAST_SUCCESS = "smtp_reach_last_successful_round_timestamp_seconds";
  public static final String INTERVAL = "smtp_reach_probe_interval_seconds";
  public static final String ROUNDS = "smtp_reach_probe_rounds";
  private static final String ROUNDS_TOTAL = ROUNDS + "_total";
  private static final String ROUNDS_HELP =
      "Rounds by outcome: Succeeded, Partial (some sources did not run), Failed";
  public static final String STATUS_UNREADABLE = "smtp_reach_status_unreadable";
  private static final String UNREADABLE_HELP =
      "1 for an endpoint whose status this operator cannot read: its other series are left out";
  public static final String EGRESS_INFO = "smtp_reach_egress_info";
  public static final String EGRESS_LISTED = "smtp_reach_egress_listed";
  public static final String EGRESS_LIST_ERROR = "smtp_reach_egress_list_error";

  private static final List<String> ENDPOINT = List.of("namespace", "endpoint");

  /**
   * A source's series: with ipFamily Each one per family ({@code IPv4}, {@code IPv6}), else {@code
   * family="any"}, so that every sample of a metric has the same label names.
   */
  private static final List<String> SOURCE =
      List.of("namespace", "endpoint", "port", "mode", "source", "family");

  /** The {@code family} label of a source probed over whichever family (not Each). */
  public static final String ANY_FAMILY = "any";

  private static final List<String> SOURCE_STATE = with(SOURCE, "state");
  private static final List<String> SOURCE_REASON = with(SOURCE, "reason");
  private static final List<String> SOURCE_EXPECT = with(SOURCE, "expect");
  private static final List<String> SOURCE_PHASE = with(SOURCE, "phase");
  private static final List<String> SOURCE_TLS = with(with(SOURCE, "version"), "cipher");
  private static final List<String> EGRESS =
      List.of("namespace", "endpoint", "source", "address", "seen_by", "ptr", "ptr_confirmed");
  private static final List<String> EGRESS_LIST =
      List.of("namespace", "endpoint", "source", "list");
  private static final List<String> ROUND_LABELS = List.of("namespace", "endpoint", "outcome");
  private static final RoundOutcome[] OUTCOMES = RoundOutcome.values();
  private static final PortState[] NO_STATES = {};

  /** A family's name, type and help, in the order they are exposed. */
  private enum Family {
    PORT_UP(EndpointMetrics.PORT_UP, "1 when the last probe from this source was Reachable"),
    PORT_STATE(EndpointMetrics.PORT_STATE, "One series per state; 1 for the current one"),
    PORT_REASON(EndpointMetrics.PORT_REASON, "1, for the current reason only"),
    PORT_AS_EXPECTED(
        EndpointMetrics.PORT_AS_EXPECTED, "1 when the state matches the port's expectation"),
    PHASE_SECONDS(EndpointMetrics.PHASE_SECONDS, "The last probe's time per phase"),
    CERT_NOT_AFTER(
        EndpointMetrics.CERT_NOT_AFTER, "The server certificate's notAfter, seconds since epoch"),
    TLS_INFO(
        EndpointMetrics.TLS_INFO,
        "1, labelled with the TLS version and cipher this source last negotiated"),
    SECURE_SUBMISSION(
        EndpointMetrics.SECURE_SUBMISSION,
        "The SecureSubmissionAvailable condition: 587, 465 or 2525 works from every source"),
    READY(EndpointMetrics.READY, "The Ready condition: every port as expected everywhere"),
    PROBES_RUNNING(
        EndpointMetrics.PROBES_RUNNING, "The ProbesRunning condition: the last round ran"),
    LAST_SUCCESS(
        EndpointMetrics.LAST_SUCCESS, "Start of the last round in which every probe pod ran"),
    INTERVAL(EndpointMetrics.INTERVAL, "The endpoint's probe interval"),
    EGRESS_INFO(
        EndpointMetrics.EGRESS_INFO,
        "1, labelled with the address a source's mail leaves from, who saw it (Server or Local),"
            + " its PTR name and whether that resolves back (true, false, unknown)"),
    EGRESS_LISTED(
        EndpointMetrics.EGRESS_LISTED,
        "1 when a configured DNS blocklist lists the source's egress address, 0 when it does not;"
            + " no series while the list gives no verdict"),
    EGRESS_LIST_ERROR(
        EndpointMetrics.EGRESS_LIST_ERROR,
        "1 when a blocklist gave no verdict: its own error (127.255.255.x) or a failed lookup");

    final String metric;
    final String help;

    Family(String metric, String help) {
      this.metric = metric;
      this.help = help;
    }
  }

  private static final Set<Family> SOURCE_FAMILIES =
      EnumSet.of(
          Family.PORT_UP,
          Family.PORT_STATE,
          Family.PORT_REASON,
          Family.PORT_AS_EXPECTED,
          Family.PHASE_SECONDS,
          Family.CERT_NOT_AFTER,
          Family.TLS_INFO);
  private static final Set<Family> EGRESS_FAMILIES =
      EnumSet.of(Family.EGRESS_INFO, Family.EGRESS_LISTED, Family.EGRESS_LIST_ERROR);

  /** Where a rendered sample goes. */
  private interface Samples {
    void add(Family family, List<String> names, List<String> values, double value);

    /** False for a family whose samples would be dropped: rendering them is skipped. */
    default boolean wants(Family family) {
      return true;
    }
  }

  /** A scrape renders every endpoint once per family, and writes only that family. */
  private record OneFamily(Family family, TextExposition text) implements Samples {
    @Override
    public void add(Family f, List<String> names, List<String> values, double value) {
      text.sample(f.metric, names, values, value);
    }

    @Override
    public boolean wants(Family f) {
      return f == family;
    }
  }

  private volatile Supplier<Stream<SmtpEndpoint>> endpoints = Stream::empty;
  private volatile Function<SmtpEndpoint, Optional<Duration>> interval = e -> Optional.empty();

  /** Finished rounds per endpoint ({@code namespace/name}), indexed by outcome. */
  private final Map<String, AtomicLongArray> rounds = new ConcurrentHashMap<>();

  /**
   * Renders the series of these endpoints from now on.
   *
   * @param interval an endpoint's probe interval, empty if its spec is invalid
   */
  public void renderFrom(
      Supplier<Stream<SmtpEndpoint>> endpoints,
      Function<SmtpEndpoint, Optional<Duration>> interval) {
    this.endpoints = endpoints;
    this.interval = interval;
  }

  /** Counts a finished round by how it went. */
  public void roundFinished(String namespace, String name, RoundOutcome outcome) {
    rounds
        .computeIfAbsent(namespace + "/" + name, k -> new AtomicLongArray(OUTCOMES.length))
        .incrementAndGet(outcome.ordinal());
  }

  /** Forgets the round counts of every endpoint for which {@code exists} is false. */
  public void retainOnly(BiPredicate<String, String> exists) {
    rounds
        .keySet()
        .removeIf(
            key -> {
              int slash = key.indexOf('/');
              return !exists.test(key.substring(0, slash), key.substring(slash + 1));
            });
  }

  /**
   * Writes every endpoint's series in the Prometheus text format (0.0.4) as they are rendered,
   * family by family, so that a scrape holds one endpoint's samples at a time, not the whole
   * exposition: at 5,000 endpoints that is about 50 MB, and rendering it whole ran the operator out
   * of heap.
   */
  public void writeTo(Writer out) throws IOException {
    List<SmtpEndpoint> snapshot = endpoints.get().toList();
    // Rendered once first: a status this version cannot read (written by hand, or by another
    // version) costs its own series, not the scrape.
    Set<SmtpEndpoint> unreadable = Collections.newSetFromMap(new IdentityHashMap<>());
    for (SmtpEndpoint e : snapshot) {
      try {
        render(e, (family, names, values, value) -> {});
      } catch (RuntimeException malformed) {
        unreadable.add(e);
      }
    }
    TextExposition text = new TextExposition(out);
    try {
      for (Family f : Family.values()) {
        text.family(f.metric, "gauge", f.help);
        OneFamily only = new OneFamily(f, text);
        for (SmtpEndpoint e : snapshot) {
          if (!unreadable.contains(e)) {
            render(e, only);
          }
        }
      }
      text.family(ROUNDS_TOTAL, "counter", ROUNDS_HELP);
      for (SmtpEndpoint e : snapshot) {
        writeRounds(text, e.getMetadata().getNamespace(), e.getMetadata().getName());
      }
      text.family(STATUS_UNREADABLE, "gauge", UNREADABLE_HELP);
      for (SmtpEndpoint e : snapshot) {
        if (unreadable.contains(e)) {
          text.sample(STATUS_UNREADABLE, ENDPOINT, labels(e), 1);
        }
      }
    } catch (UncheckedIOException failedWrite) {
      throw failedWrite.getCause();
    }
  }

  private void writeRounds(TextExposition text, String namespace, String name) {
    AtomicLongArray counts = rounds.get(namespace + "/" + name);
    for (int o = 0; counts != null && o < OUTCOMES.length; o++) {
      if (counts.get(o) > 0) {
        text.sample(
            ROUNDS_TOTAL,
            ROUND_LABELS,
            List.of(namespace, name, OUTCOMES[o].name()),
            counts.get(o));
      }
    }
  }

  private void render(SmtpEndpoint e, Samples out) {
    List<String> labels = labels(e);
    if (out.wants(Family.INTERVAL)) {
      interval.apply(e).ifPresent(i -> add(out, Family.INTERVAL, ENDPOINT, labels, i.toSeconds()));
    }
    if (e.getStatus() != null) {
      render(out, labels, e.getStatus());
    }
  }

  private static List<String> labels(SmtpEndpoint e) {
    return List.of(e.getMetadata().getNamespace(), e.getMetadata().getName());
  }

  private static void render(Samples gauges, List<String> endpoint, SmtpEndpointStatus status) {
    condition(gauges, Family.READY, endpoint, status, ConditionTypes.READY);
    condition(
        gauges,
        Family.SECURE_SUBMISSION,
        endpoint,
        status,
        ConditionTypes.SECURE_SUBMISSION_AVAILABLE);
    condition(gauges, Family.PROBES_RUNNING, endpoint, status, ConditionTypes.PROBES_RUNNING);
    if (gauges.wants(Family.LAST_SUCCESS) && status.lastSuccessfulProbeTime != null) {
      add(
          gauges,
          Family.LAST_SUCCESS,
          ENDPOINT,
          endpoint,
          epochSeconds(status.lastSuccessfulProbeTime));
    }
    for (EgressStatus e : status.egress == null ? List.<EgressStatus>of() : status.egress) {
      egress(gauges, endpoint, e);
    }
    if (SOURCE_FAMILIES.stream().noneMatch(gauges::wants)) {
      return;
    }
    for (PortStatus p : status.ports) {
      for (SourceStatus s : p.sources) {
        List<String> series =
            List.of(
                endpoint.get(0),
                endpoint.get(1),
                String.valueOf(p.port),
                p.tls,
                s.name,
                s.family == null ? ANY_FAMILY : s.family);
        add(
            gauges,
            Family.PORT_UP,
            SOURCE,
            series,
            bit(PortState.REACHABLE.displayName().equals(s.state)));
        for (PortState state : gauges.wants(Family.PORT_STATE) ? PortState.values() : NO_STATES) {
          add(
              gauges,
              Family.PORT_STATE,
              SOURCE_STATE,
              with(series, state.displayName()),
              bit(state.displayName().equals(s.state)));
        }
        if (gauges.wants(Family.PORT_REASON)) {
          add(gauges, Family.PORT_REASON, SOURCE_REASON, with(series, s.reason), 1);
        }
        if (gauges.wants(Family.PORT_AS_EXPECTED)) {
          add(
              gauges,
              Family.PORT_AS_EXPECTED,
              SOURCE_EXPECT,
              with(series, p.expect),
              bit(Boolean.TRUE.equals(s.asExpected)));
        }
        if (gauges.wants(Family.PHASE_SECONDS) && s.timings != null) {
          PortStatus.Timings t = s.timings;
          phase(gauges, series, "dns", t.dns);
          phase(gauges, series, "connect", t.connect);
          phase(gauges, series, "greeting", t.greeting);
          phase(gauges, series, "ehlo", t.ehlo);
          phase(gauges, series, "starttls", t.starttls);
          phase(gauges, series, "tls_handshake", t.tls);
          phase(gauges, series, "total", t.total);
        }
        if (gauges.wants(Family.CERT_NOT_AFTER)
            && s.tlsFacts != null
            && s.tlsFacts.notAfter != null) {
          add(gauges, Family.CERT_NOT_AFTER, SOURCE, series, epochSeconds(s.tlsFacts.notAfter));
        }
        if (gauges.wants(Family.TLS_INFO)
            && s.tlsFacts != null
            && s.tlsFacts.version != null
            && s.tlsFacts.cipher != null) {
          add(
              gauges,
              Family.TLS_INFO,
              SOURCE_TLS,
              with(with(series, s.tlsFacts.version), s.tlsFacts.cipher),
              1);
        }
      }
    }
  }

  private static void egress(Samples gauges, List<String> endpoint, EgressStatus e) {
    if (EGRESS_FAMILIES.stream().noneMatch(gauges::wants)
        || e.address == null
        || e.source == null) {
      return;
    }
    add(
        gauges,
        Family.EGRESS_INFO,
        EGRESS,
        List.of(
            endpoint.get(0),
            endpoint.get(1),
            e.source,
            e.address,
            Objects.requireNonNullElse(e.seenBy, ""),
            Objects.requireNonNullElse(e.ptr, ""),
            e.ptrConfirmed == null ? "unknown" : e.ptrConfirmed.toString()),
        1);
    for (EgressStatus.Blocklist l : e.lists == null ? List.<EgressStatus.Blocklist>of() : e.lists) {
      List<String> series = List.of(endpoint.get(0), endpoint.get(1), e.source, l.name);
      switch (l.verdict == null ? "" : l.verdict) {
        case "Listed" -> add(gauges, Family.EGRESS_LISTED, EGRESS_LIST, series, 1);
        case "NotListed" -> add(gauges, Family.EGRESS_LISTED, EGRESS_LIST, series, 0);
        default -> add(gauges, Family.EGRESS_LIST_ERROR, EGRESS_LIST, series, 1);
      }
    }
  }

  private static void phase(Samples gauges, List<String> series, String phase, Long millis) {
    if (millis != null) {
      add(gauges, Family.PHASE_SECONDS, SOURCE_PHASE, with(series, phase), millis / 1000.0);
    }
  }

  /** 1 for True, 0 for False, no series while Unknown (nothing probed, or nothing to say). */
  private static void condition(
      Samples gauges,
      Family family,
      List<String> endpoint,
      SmtpEndpointStatus status,
      String type) {
    if (!gauges.wants(family)) {
      return;
    }
    Optional<Condition> c =
        Conditions.find(status.conditions, type).filter(x -> !"Unknown".equals(x.getStatus()));
    c.ifPresent(x -> add(gauges, family, ENDPOINT, endpoint, bit("True".equals(x.getStatus()))));
  }

  private static void add(
      Samples gauges, Family family, List<String> names, List<String> values, double value) {
    if (gauges.wants(family)) {
      values.forEach(v -> Objects.requireNonNull(v, "a label value is missing"));
      gauges.add(family, names, values, value);
    }
  }

  private static List<String> with(List<String> list, String last) {
    List<String> longer = new ArrayList<>(list.size() + 1);
    longer.addAll(list);
    longer.add(last);
    return longer;
  }

  private static double epochSeconds(String timestamp) {
    return Instant.parse(timestamp).getEpochSecond();
  }

  private static double bit(boolean b) {
    return b ? 1 : 0;
  }
}
