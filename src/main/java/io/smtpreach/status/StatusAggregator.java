package io.smtpreach.status;

import io.smtpreach.api.EgressStatus;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.EgressFacts;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.PortState;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.Recommendation;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Builds an endpoint's next status from its last one and a finished round, in one place: per-port
 * and per-source states with their {@code since}, the conditions, the recommendation, the summary,
 * and the list of state changes that become Events. With {@link IpFamily#EACH} each family of a
 * source is an entry of its own, as if it were another source. A source whose probe could not run
 * keeps its last state: a probe failure is never a port state.
 */
public final class StatusAggregator {
  /** The source name of {@code placement: Any}: one pod wherever the scheduler puts it. */
  public static final String ANY_SOURCE = "any";

  /** Entries (sources, or sources and families) listed per port; more are counted apart. */
  public static final int MAX_SOURCES = 32;

  /** How a round went, as counted in metrics. */
  public enum RoundOutcome {
    Succeeded,
    Partial,
    Failed
  }

  /** The next status, what changed, and how the round went. */
  public record Result(
      SmtpEndpointStatus status,
      List<PortChange> changes,
      RoundOutcome outcome,
      List<EgressChange> egressChanges) {}

  private StatusAggregator() {}

  /**
   * @param targets the ports the round probed, in spec order
   * @param ipFamily the endpoint's; with {@link IpFamily#EACH} each family gets its own entries
   * @param startedAt when the round's pods were created
   */
  public static Result afterRound(
      SmtpEndpointStatus previous,
      List<ProbeTarget> targets,
      IpFamily ipFamily,
      List<SourceOutcome> outcomes,
      long generation,
      Instant startedAt,
      Instant now) {
    return afterRound(
        previous, targets, ipFamily, outcomes, generation, startedAt, now, node -> null);
  }

  /**
   * @param providerIdOf a node's {@code spec.providerID} (null if unknown): port 25 Blocked from a
   *     cloud that blocks it by policy says so
   */
  public static Result afterRound(
      SmtpEndpointStatus previous,
      List<ProbeTarget> targets,
      IpFamily ipFamily,
      List<SourceOutcome> outcomes,
      long generation,
      Instant startedAt,
      Instant now,
      Function<String, String> providerIdOf) {
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
      next.ports.add(port(target, ipFamily, old, sorted, anyRan, nowText, changes, providerIdOf));
    }
    List<EgressChange> egressChanges = new ArrayList<>();
    next.egress = egress(previous, sorted, anyRan, nowText, egressChanges);
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
    return new Result(next, changes, outcome, egressChanges);
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
            IpFamily.ANY, // nothing ran: every entry is kept as it was, whatever its family
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
      IpFamily ipFamily,
      PortStatus old,
      List<SourceOutcome> outcomes,
      boolean roundRan,
      String now,
      List<PortChange> changes,
      Function<String, String> providerIdOf) {
    Map<String, List<SourceStatus>> oldSources = new LinkedHashMap<>();
    if (old != null && old.sources != null) {
      old.sources.forEach(s -> oldSources.computeIfAbsent(s.name, n -> new ArrayList<>()).add(s));
    }
    List<String> families = families(ipFamily);
    List<SourceStatus> sources = new ArrayList<>();
    Map<SourceStatus, ProbeResult> fresh = new IdentityHashMap<>();
    for (SourceOutcome o : outcomes) {
      List<SourceStatus> before = oldSources.remove(o.source());
      List<Verdict> verdicts = o.ran() ? verdicts(o, target, ipFamily) : List.of();
      if (verdicts.isEmpty()) {
        if (before != null) {
          sources.addAll(before); // could not probe from here this round: keep what we knew
        }
        continue;
      }
      for (Verdict v : verdicts) {
        SourceStatus last = entry(before, v.family());
        SourceStatus s = source(o, v, last, now);
        ProbeResult r = v.result();
        if (r.target().port() == 25 && r.state() == PortState.BLOCKED && o.node() != null) {
          CloudPort25Policy.explain(providerIdOf.apply(o.node()))
              .ifPresent(why -> s.message = s.message + ". " + why);
        }
        sources.add(s);
        fresh.put(s, v.result());
        if (last == null || !s.state.equals(last.state)) {
          changes.add(
              new PortChange(
                  target.label(),
                  o.source(),
                  s.family,
                  last == null ? null : last.state,
                  s.state,
                  s.reason,
                  s.message,
                  s.asExpected));
        }
      }
      // A family this round has no verdict on keeps its last entry; one of a family no longer
      // probed (ipFamily changed) goes.
      for (SourceStatus b : before == null ? List.<SourceStatus>of() : before) {
        if (families.contains(b.family)
            && verdicts.stream().noneMatch(v -> Objects.equals(v.family(), b.family))) {
          sources.add(b);
        }
      }
    }
    if (!roundRan) {
      // Nothing ran (no eligible node, say): a round that did not run changes nothing we knew,
      // whichever sources it would have had.
      oldSources.values().forEach(sources::addAll);
    }
    // Failing entries first, then by source and family; bounded.
    sources.sort(
        Comparator.comparing((SourceStatus s) -> Boolean.TRUE.equals(s.asExpected))
            .thenComparing(s -> s.name)
            .thenComparing(s -> s.family, Comparator.nullsFirst(Comparator.naturalOrder())));
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
    ProbeResult facts = fresh.get(rep);
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

  /** A source's verdict over one family; {@code family} is null unless each is kept apart. */
  record Verdict(String family, ProbeResult result) {}

  /** The families kept apart: IPv4 and IPv6 with {@link IpFamily#EACH}, else none (null). */
  private static List<String> families(IpFamily ipFamily) {
    return ipFamily == IpFamily.EACH
        ? ipFamily.expand().stream().map(IpFamily::displayName).toList()
        : Arrays.asList((String) null);
  }

  private static SourceStatus entry(List<SourceStatus> entries, String family) {
    return entries == null
        ? null
        : entries.stream().filter(e -> Objects.equals(e.family, family)).findFirst().orElse(null);
  }

  /**
   * One source's verdicts on a target: one per family with {@link IpFamily#EACH}, else one. Several
   * results per verdict come from MX mode (one per MX host: the first reachable one decides, as
   * delivery falls back across MX hosts); otherwise the first one not as expected decides.
   */
  static List<Verdict> verdicts(SourceOutcome o, ProbeTarget target, IpFamily ipFamily) {
    List<ProbeResult> results =
        o.report().results().stream()
            .filter(r -> r.target().port() == target.port() && r.target().mode() == target.mode())
            .toList();
    boolean mx = o.report().mx();
    if (ipFamily != IpFamily.EACH) {
      return decide(mx, results).map(r -> List.of(new Verdict(null, r))).orElse(List.of());
    }
    List<Verdict> verdicts = new ArrayList<>();
    for (IpFamily family : ipFamily.expand()) {
      decide(mx, results.stream().filter(r -> r.family() == family).toList())
          .ifPresent(r -> verdicts.add(new Verdict(family.displayName(), r)));
    }
    return verdicts;
  }

  private static Optional<ProbeResult> decide(boolean mx, List<ProbeResult> results) {
    if (results.isEmpty()) {
      return Optional.empty();
    }
    if (mx) {
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

  private static SourceStatus source(SourceOutcome o, Verdict v, SourceStatus before, String now) {
    ProbeResult r = v.result();
    SourceStatus s = new SourceStatus();
    s.name = o.source();
    s.family = v.family();
    s.node = o.node();
    s.via = o.via().name();
    s.state = r.state().displayName();
    s.reason = r.reason().displayName();
    s.message = r.message();
    s.asExpected = r.matchesExpectation();
    s.since = before != null && s.state.equals(before.state) ? before.since : now;
    s.secure = r.isSecure();
    s.timings = timings(r);
    s.tlsFacts = tlsFacts(r);
    return s;
  }

  /**
   * Each source's egress: what this round's report says, else what was known (a source that did not
   * run, or whose report had no room for it, keeps it: unknown is not a change).
   */
  private static List<EgressStatus> egress(
      SmtpEndpointStatus previous,
      List<SourceOutcome> outcomes,
      boolean roundRan,
      String now,
      List<EgressChange> changes) {
    Map<String, EgressStatus> old = new LinkedHashMap<>();
    if (previous != null && previous.egress != null) {
      previous.egress.forEach(e -> old.put(e.source, e));
    }
    List<EgressStatus> out = new ArrayList<>();
    for (SourceOutcome o : outcomes) {
      EgressStatus before = old.remove(o.source());
      EgressFacts facts = o.ran() ? o.report().egress() : null;
      if (facts == null) {
        if (before != null) {
          out.add(before);
        }
        continue;
      }
      EgressStatus e = new EgressStatus();
      e.source = o.source();
      e.node = o.node();
      e.address = facts.address();
      e.seenBy = facts.seenBy().displayName();
      e.ptr = facts.ptr();
      e.ptrConfirmed = facts.ptrConfirmed();
      for (EgressFacts.Dnsbl l : facts.lists()) {
        EgressStatus.Blocklist b = new EgressStatus.Blocklist();
        b.name = l.zone();
        b.verdict = l.verdict().displayName();
        b.detail = l.detail();
        e.lists.add(b);
        if (l.verdict() == EgressFacts.Verdict.LISTED) {
          e.listedOn.add(l.zone());
        }
      }
      boolean sameAddress = before != null && e.address.equals(before.address);
      e.since = sameAddress && before.since != null ? before.since : now;
      out.add(e);
      egressChanges(before, e, changes);
    }
    if (!roundRan) {
      out.addAll(old.values());
    }
    out.sort(Comparator.comparing(e -> e.source));
    return out.size() > MAX_SOURCES ? new ArrayList<>(out.subList(0, MAX_SOURCES)) : out;
  }

  private static void egressChanges(
      EgressStatus before, EgressStatus now, List<EgressChange> changes) {
    // Only the address servers see is the egress others allowlist: the probe's own (Local) is a
    // new pod's, or a restarted agent's, every so often, and a server that stops echoing (Server,
    // then Local) changes what is known, not the address.
    String server = EgressFacts.SeenBy.SERVER.displayName();
    if (before != null
        && before.address != null
        && server.equals(now.seenBy)
        && server.equals(before.seenBy)
        && !now.address.equals(before.address)) {
      changes.add(
          new EgressChange(
              EgressChange.Kind.EgressAddressChanged,
              now.source,
              now.address,
              null,
              "the address servers see changed from "
                  + before.address
                  + " to "
                  + now.address
                  + ": relays' allowlists and SPF records that name the old one no longer"
                  + " match"));
    }
    List<String> wasListed = before == null ? List.of() : before.listedOn;
    for (EgressStatus.Blocklist l : now.lists) {
      boolean listed = now.listedOn.contains(l.name);
      if (listed && !wasListed.contains(l.name)) {
        changes.add(
            new EgressChange(
                EgressChange.Kind.EgressAddressListed,
                now.source,
                now.address,
                l.name,
                now.address
                    + " is listed on "
                    + l.name
                    + (l.detail == null ? "" : ": " + l.detail)));
      } else if (EgressFacts.Verdict.NOT_LISTED.displayName().equals(l.verdict)
          && wasListed.contains(l.name)) {
        changes.add(
            new EgressChange(
                EgressChange.Kind.EgressAddressDelisted,
                now.source,
                now.address,
                l.name,
                now.address + " is no longer listed on " + l.name));
      }
    }
  }

  private static void facts(PortStatus p, ProbeResult r) {
    p.negotiated = r.negotiated() == null ? null : r.negotiated().displayName();
    p.timings = timings(r);
    p.authMechanisms = r.authMechanisms().isEmpty() ? null : r.authMechanisms();
    p.tlsFacts = tlsFacts(r);
  }

  private static PortStatus.TlsFacts tlsFacts(ProbeResult r) {
    if (r.tls() == null) {
      return null;
    }
    PortStatus.TlsFacts t = new PortStatus.TlsFacts();
    t.version = r.tls().protocol();
    t.cipher = r.tls().cipherSuite();
    CertificateFacts c = r.tls().certificate();
    if (c != null) {
      t.subject = c.subject();
      t.issuer = c.issuer();
      t.notAfter = timestamp(c.notAfter());
    }
    return t;
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
        where(p.sources.stream().filter(s -> !Boolean.TRUE.equals(s.asExpected)).toList(), p)
            .stream()
            .filter(n -> !n.equals(ANY_SOURCE))
            .toList();
    String from = failing.isEmpty() ? "" : " from " + String.join(", ", failing);
    return p.port + "/" + p.tls + " is " + p.state + from + " (expected " + p.expect + ")";
  }

  /**
   * {@code 587 Reachable}, or {@code 587 Blocked from zone-b} when entries disagree ({@code from
   * any/IPv6} when only one family of a source is).
   */
  private static String summary(PortStatus p) {
    if (p.state == null) {
      return p.port + " Pending";
    }
    List<SourceStatus> worst = p.sources.stream().filter(s -> s.state.equals(p.state)).toList();
    boolean allSame = worst.size() == p.sources.size() && p.sourcesOmitted == null;
    return p.port + " " + p.state + (allSame ? "" : " from " + String.join(",", where(worst, p)));
  }

  /**
   * Where some of a port's entries come from: a source's name when they hold all its listed
   * entries, {@code source/family} when only some of its families.
   */
  private static List<String> where(List<SourceStatus> some, PortStatus p) {
    List<String> names = new ArrayList<>();
    for (SourceStatus s : some) {
      boolean wholeSource =
          p.sources.stream().filter(x -> x.name.equals(s.name)).allMatch(some::contains);
      String name = wholeSource || s.family == null ? s.name : s.name + "/" + s.family;
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    return names;
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
