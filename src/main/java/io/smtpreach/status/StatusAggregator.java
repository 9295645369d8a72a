package io.smtpreach.status;

import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.Recommendation;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Builds an endpoint's next status from its last one and a finished round, in one place: per-port
 * and per-source states with their {@code since}, the conditions, the recommendation, the summary,
 * and the list of state changes that become Events. A source whose probe could not run keeps its
 * last state: a probe failure is never a port state.
 */
public final class StatusAggregator {
  /** The source name of {@code placement: Any}: one pod wherever the scheduler puts it. */
  public static final String ANY_SOURCE = "any";

  /** Sources listed per port; more are counted in {@code sourcesOmitted}. */
  public static final int MAX_SOURCES = 32;

  /** How a round went, as counted in metrics. */
  public enum RoundOutcome {
    Succeeded,
    Partial,
    Failed
  }

  /** The next status, what changed, and how the round went. */
  public record Result(SmtpEndpointStatus status, List<PortChange> changes, RoundOutcome outcome) {}

  private StatusAggregator() {}

  /**
   * @param targets the ports the round probed, in spec order
   * @param startedAt when the round's pods were created
   */
  public static Result afterRound(
      SmtpEndpointStatus previous,
      List<ProbeTarget> targets,
      List<SourceOutcome> outcomes,
      long generation,
      Instant startedAt,
      Instant now) {
    SmtpEndpointStatus next = copyBookkeeping(previous);
    String nowText = timestamp(now);
    Map<Integer, PortStatus> oldPorts = new LinkedHashMap<>();
    for (PortStatus p : previous == null ? List.<PortStatus>of() : previous.ports) {
      oldPorts.put(p.port, p);
    }
    List<SourceOutcome> sorted =
        outcomes.stream().sorted(Comparator.comparing(SourceOutcome::source)).toList();
    List<PortChange> changes = new ArrayList<>();
    boolean anyRan = outcomes.stream().anyMatch(SourceOutcome::ran);
    for (ProbeTarget target : targets) {
      PortStatus old = oldPorts.get(target.port());
      if (old != null && !target.mode().displayName().equals(old.tls)) {
        old = null; // the mode changed: a different check, start its history afresh
      }
      next.ports.add(port(target, old, sorted, anyRan, nowText, changes));
    }
    long ran = outcomes.stream().filter(SourceOutcome::ran).count();
    RoundOutcome outcome =
        ran == outcomes.size() && ran > 0
            ? RoundOutcome.Succeeded
            : ran > 0 ? RoundOutcome.Partial : RoundOutcome.Failed;
    if (ran > 0) {
      next.lastProbeTime = timestamp(startedAt);
    }
    if (outcome == RoundOutcome.Succeeded) {
      next.lastSuccessfulProbeTime = timestamp(startedAt);
    }
    next.observedGeneration = generation;
    probesRunning(next, outcomes, generation, nowText);
    portConditions(next, targets, generation, nowText);
    return new Result(next, changes, outcome);
  }

  /** The status when a round could not start at all (no eligible node, for example). */
  public static SmtpEndpointStatus roundNotStarted(
      SmtpEndpointStatus previous,
      List<ProbeTarget> targets,
      ProbeRunFailure failure,
      String message,
      long generation,
      Instant now) {
    return afterRound(
            previous,
            targets,
            List.of(SourceOutcome.failed(ANY_SOURCE, null, failure, message)),
            generation,
            now,
            now)
        .status();
  }

  /** The first status of a new endpoint: nothing probed yet. */
  public static void initialConditions(SmtpEndpointStatus status, long generation, Instant now) {
    String t = timestamp(now);
    if (Conditions.find(status.conditions, ConditionTypes.READY).isEmpty()) {
      Conditions.set(
          status.conditions,
          ConditionTypes.READY,
          "Unknown",
          ConditionTypes.NOT_PROBED_YET,
          "the first probe round has not finished",
          generation,
          t);
    }
    if (Conditions.find(status.conditions, ConditionTypes.PROBES_RUNNING).isEmpty()) {
      Conditions.set(
          status.conditions,
          ConditionTypes.PROBES_RUNNING,
          "Unknown",
          ConditionTypes.FIRST_ROUND_PENDING,
          "the first probe round is starting",
          generation,
          t);
    }
  }

  private static SmtpEndpointStatus copyBookkeeping(SmtpEndpointStatus previous) {
    SmtpEndpointStatus next = new SmtpEndpointStatus();
    if (previous != null) {
      next.lastProbeTime = previous.lastProbeTime;
      next.lastSuccessfulProbeTime = previous.lastSuccessfulProbeTime;
      next.nextProbeTime = previous.nextProbeTime;
      next.probeNowHandled = previous.probeNowHandled;
      next.conditions =
          new ArrayList<>(previous.conditions == null ? List.of() : previous.conditions);
    }
    return next;
  }

  private static PortStatus port(
      ProbeTarget target,
      PortStatus old,
      List<SourceOutcome> outcomes,
      boolean roundRan,
      String now,
      List<PortChange> changes) {
    Map<String, SourceStatus> oldSources = new LinkedHashMap<>();
    if (old != null && old.sources != null) {
      old.sources.forEach(s -> oldSources.put(s.name, s));
    }
    List<SourceStatus> sources = new ArrayList<>();
    Map<String, ProbeResult> fresh = new LinkedHashMap<>();
    for (SourceOutcome o : outcomes) {
      SourceStatus before = oldSources.get(o.source());
      Optional<ProbeResult> verdict = o.ran() ? verdict(o, target) : Optional.empty();
      if (verdict.isEmpty()) {
        if (oldSources.remove(o.source()) != null) {
          sources.add(before); // could not probe from here this round: keep what we knew
        }
        continue;
      }
      ProbeResult r = verdict.get();
      fresh.put(o.source(), r);
      oldSources.remove(o.source());
      SourceStatus s = source(o, r, before, now);
      sources.add(s);
      if (before == null || !s.state.equals(before.state)) {
        changes.add(
            new PortChange(
                target.label(),
                o.source(),
                before == null ? null : before.state,
                s.state,
                s.reason,
                s.message,
                s.asExpected));
      }
    }
    if (!roundRan) {
      // Nothing ran (no eligible node, say): a round that did not run changes nothing we knew,
      // whichever sources it would have had.
      sources.addAll(oldSources.values());
    }
    // Failing sources first, then by name; bounded.
    sources.sort(
        Comparator.comparing((SourceStatus s) -> Boolean.TRUE.equals(s.asExpected))
            .thenComparing(s -> s.name));
    PortStatus p = new PortStatus();
    p.port = target.port();
    p.tls = target.mode().displayName();
    p.expect = camel(target.expect().name());
    if (!sources.isEmpty()) { // from all sources, before the list is bounded
      p.secure = sources.stream().allMatch(s -> Boolean.TRUE.equals(s.secure));
      p.asExpected = sources.stream().allMatch(s -> Boolean.TRUE.equals(s.asExpected));
    }
    if (sources.size() > MAX_SOURCES) {
      p.sourcesOmitted = sources.size() - MAX_SOURCES;
      sources = new ArrayList<>(sources.subList(0, MAX_SOURCES));
    }
    p.sources = sources;
    if (sources.isEmpty()) {
      return p;
    }
    SourceStatus rep = sources.get(0);
    p.state = rep.state;
    p.reason = rep.reason;
    p.message = rep.message;
    p.source = rep.name;
    p.since = old != null && rep.state.equals(old.state) && old.since != null ? old.since : now;
    ProbeResult facts = fresh.get(rep.name);
    if (facts != null) {
      facts(p, facts);
    } else if (old != null) {
      p.negotiated = old.negotiated;
      p.timings = old.timings;
      p.tlsFacts = old.tlsFacts;
      p.authMechanisms = old.authMechanisms;
    }
    return p;
  }

  /**
   * One source's verdict on a target. Several results per target come from MX mode (one per MX
   * host: the first reachable one decides, as delivery falls back across MX hosts) or from probing
   * each IP family (both must work: the first one not as expected decides).
   */
  static Optional<ProbeResult> verdict(SourceOutcome o, ProbeTarget target) {
    List<ProbeResult> results =
        o.report().results().stream()
            .filter(r -> r.target().port() == target.port() && r.target().mode() == target.mode())
            .toList();
    if (results.isEmpty()) {
      return Optional.empty();
    }
    if (o.report().mx()) {
      return results.stream()
          .filter(r -> r.reason() == Reason.OK)
          .findFirst()
          .or(() -> Optional.of(results.get(0)));
    }
    return results.stream()
        .filter(r -> !r.matchesExpectation())
        .findFirst()
        .or(() -> Optional.of(results.get(0)));
  }

  private static SourceStatus source(
      SourceOutcome o, ProbeResult r, SourceStatus before, String now) {
    SourceStatus s = new SourceStatus();
    s.name = o.source();
    s.node = o.node();
    s.via = o.via().name();
    s.state = r.state().displayName();
    s.reason = r.reason().displayName();
    s.message = r.message();
    s.asExpected = r.matchesExpectation();
    s.since = before != null && s.state.equals(before.state) ? before.since : now;
    s.secure = r.isSecure();
    s.timings = timings(r);
    if (r.tls() != null && r.tls().certificate() != null) {
      s.certificateNotAfter = timestamp(r.tls().certificate().notAfter());
    }
    return s;
  }

  private static void facts(PortStatus p, ProbeResult r) {
    p.negotiated = r.negotiated() == null ? null : r.negotiated().displayName();
    p.timings = timings(r);
    p.authMechanisms = r.authMechanisms().isEmpty() ? null : r.authMechanisms();
    if (r.tls() != null) {
      PortStatus.TlsFacts t = new PortStatus.TlsFacts();
      t.version = r.tls().protocol();
      t.cipher = r.tls().cipherSuite();
      CertificateFacts c = r.tls().certificate();
      if (c != null) {
        t.subject = c.subject();
        t.issuer = c.issuer();
        t.notAfter = timestamp(c.notAfter());
      }
      p.tlsFacts = t;
    }
  }

  private static PortStatus.Timings timings(ProbeResult r) {
    if (r.timings().isEmpty()) {
      return null;
    }
    PortStatus.Timings t = new PortStatus.Timings();
    t.dns = ms(r, Phase.DNS);
    t.connect = ms(r, Phase.CONNECT);
    t.greeting = ms(r, Phase.GREETING);
    t.ehlo = ms(r, Phase.EHLO);
    t.starttls = ms(r, Phase.STARTTLS);
    t.tls = ms(r, Phase.TLS_HANDSHAKE);
    t.total = ms(r, Phase.TOTAL);
    return t;
  }

  private static Long ms(ProbeResult r, Phase phase) {
    Duration d = r.timing(phase);
    return d == null ? null : d.toMillis();
  }

  private static void probesRunning(
      SmtpEndpointStatus next, List<SourceOutcome> outcomes, long generation, String now) {
    List<SourceOutcome> failed = outcomes.stream().filter(o -> !o.ran()).toList();
    if (failed.isEmpty()) {
      Conditions.set(
          next.conditions,
          ConditionTypes.PROBES_RUNNING,
          "True",
          ConditionTypes.ROUND_SUCCEEDED,
          outcomes.size() == 1
              ? "the last round ran"
              : "the last round ran from all " + outcomes.size() + " sources",
          generation,
          now);
      return;
    }
    String message =
        failed.stream()
            .map(
                o ->
                    (o.source().equals(ANY_SOURCE) ? "" : o.source() + ": ")
                        + o.failure()
                        + (o.message() == null ? "" : " (" + o.message() + ")"))
            .collect(Collectors.joining("; "));
    Conditions.set(
        next.conditions,
        ConditionTypes.PROBES_RUNNING,
        "False",
        failed.get(0).failure().name(),
        bound(
            failed.size() + " of " + outcomes.size() + " probe pods did not run: " + message, 1024),
        generation,
        now);
  }

  private static void portConditions(
      SmtpEndpointStatus next, List<ProbeTarget> targets, long generation, String now) {
    boolean anyProbed = next.ports.stream().anyMatch(p -> p.state != null);
    if (!anyProbed) {
      Conditions.set(
          next.conditions,
          ConditionTypes.READY,
          "Unknown",
          ConditionTypes.NOT_PROBED_YET,
          "no port has been probed yet",
          generation,
          now);
    } else {
      List<String> bad =
          next.ports.stream()
              .filter(p -> p.state == null || !Boolean.TRUE.equals(p.asExpected))
              .map(StatusAggregator::describe)
              .toList();
      Conditions.set(
          next.conditions,
          ConditionTypes.READY,
          bad.isEmpty() ? "True" : "False",
          bad.isEmpty()
              ? ConditionTypes.ALL_PORTS_AS_EXPECTED
              : ConditionTypes.PORTS_NOT_AS_EXPECTED,
          bad.isEmpty() ? "every port is as expected" : bound(String.join("; ", bad), 1024),
          generation,
          now);
    }
    Optional<ProbeTarget> rec = recommended(next.ports);
    next.recommended = rec.map(ProbeTarget::label).orElse(anyProbed ? "None" : null);
    boolean submissionProbed =
        targets.stream()
            .anyMatch(
                t ->
                    Recommendation.ORDER.stream().anyMatch(o -> o.port() == t.port())
                        && t.mode() != TlsMode.NONE);
    if (rec.isPresent()) {
      Conditions.set(
          next.conditions,
          ConditionTypes.SECURE_SUBMISSION_AVAILABLE,
          "True",
          ConditionTypes.SECURE_PORT_REACHABLE,
          rec.get().label() + " works with TLS from every source",
          generation,
          now);
    } else if (!submissionProbed) {
      Conditions.set(
          next.conditions,
          ConditionTypes.SECURE_SUBMISSION_AVAILABLE,
          "Unknown",
          ConditionTypes.NO_SUBMISSION_PORT_PROBED,
          "none of 587, 465 and 2525 is probed with TLS",
          generation,
          now);
    } else if (anyProbed) {
      Conditions.set(
          next.conditions,
          ConditionTypes.SECURE_SUBMISSION_AVAILABLE,
          "False",
          ConditionTypes.NO_SECURE_SUBMISSION_PORT,
          "none of 587/StartTLS, 465/Implicit, 2525/StartTLS works with TLS from every source",
          generation,
          now);
    }
    next.summary =
        next.ports.stream().map(StatusAggregator::summary).collect(Collectors.joining(", "));
  }

  /** The first option of {@link Recommendation#ORDER} that works over TLS from every source. */
  static Optional<ProbeTarget> recommended(List<PortStatus> ports) {
    for (ProbeTarget option : Recommendation.ORDER) {
      for (PortStatus p : ports) {
        boolean modeFits =
            option.mode().displayName().equals(p.tls)
                || (TlsMode.AUTO.displayName().equals(p.tls)
                    && option.mode().displayName().equals(p.negotiated));
        if (p.port == option.port() && modeFits && Boolean.TRUE.equals(p.secure)) {
          return Optional.of(option);
        }
      }
    }
    return Optional.empty();
  }

  private static String describe(PortStatus p) {
    if (p.state == null) {
      return p.port + "/" + p.tls + " not probed yet";
    }
    List<String> failing =
        p.sources.stream()
            .filter(s -> !Boolean.TRUE.equals(s.asExpected))
            .map(s -> s.name)
            .filter(n -> !n.equals(ANY_SOURCE))
            .toList();
    String from = failing.isEmpty() ? "" : " from " + String.join(", ", failing);
    return p.port + "/" + p.tls + " is " + p.state + from + " (expected " + p.expect + ")";
  }

  /** {@code 587 Reachable}, or {@code 587 Blocked from zone-b} when sources disagree. */
  private static String summary(PortStatus p) {
    if (p.state == null) {
      return p.port + " Pending";
    }
    List<String> worst =
        p.sources.stream().filter(s -> s.state.equals(p.state)).map(s -> s.name).toList();
    boolean allSame = worst.size() == p.sources.size() && p.sourcesOmitted == null;
    return p.port + " " + p.state + (allSame ? "" : " from " + String.join(",", worst));
  }

  public static String timestamp(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static String camel(String constant) {
    return constant.charAt(0) + constant.substring(1).toLowerCase(java.util.Locale.ROOT);
  }

  private static String bound(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
