package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Pod;
import io.smtpreach.api.ProbeVia;
import io.smtpreach.api.RoundStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The life of an endpoint's probe rounds, in one place, as a pure function: from what the
 * reconciler observed (the endpoint and its status, the pods it created for it, the nodes' sources,
 * what the batcher knows, the clock) to the next status, what to do after writing it, and when to
 * look again. No API calls, no clocks, no threads: each transition has its unit test.
 *
 * <p>A round is {@link Stage#SCHEDULED} (in status, its start in the future), {@link Stage#DUE}
 * (its start has come and it has no pod), {@link Stage#RUNNING} (its pods were asked for), or there
 * is none ({@link Stage#IDLE}); a spec change or a new probe-now value supersedes it. When every
 * source's outcome is known (a report, or why it did not run) the round finishes: the status takes
 * its verdicts and the next interval round is scheduled in the same write.
 */
final class Round {
  /** Where an endpoint's round stands. */
  enum Stage {
    IDLE,
    SCHEDULED,
    DUE,
    RUNNING
  }

  /** Why a round starts; the names are what {@code status.round.trigger} shows. */
  enum Trigger {
    Created,
    SpecChanged,
    ProbeNow,
    Interval
  }

  /** How soon to look again when nothing else says: rounds wait on pods, pods on the API. */
  static final Duration RECHECK_BUSY = Duration.ofSeconds(5);

  /** What the batcher knows of a round's pods: facts outside the cluster's objects. */
  interface PodLedger {
    /** Why the API server refused the pod of this endpoint's round from a source, if it did. */
    Optional<String> refused(String round, String source);

    /** Whether this process created the pod of this endpoint's round from a source. */
    boolean created(String round, String source);
  }

  /** What the agent dispatcher knows of a round's calls to the sources' probe agents. */
  interface AgentLedger {
    /** The outcome of this endpoint's round from a source's agent, once its call ended. */
    Optional<SourceOutcome> outcome(String round, String source);

    /** Whether this process asked a source's agent for this endpoint's round. */
    boolean asked(String round, String source);
  }

  /**
   * Everything a decision depends on, observed at {@code now}.
   *
   * @param providerIds each node's {@code spec.providerID}, by node name: a cloud that blocks port
   *     25 by policy is named in its Blocked message
   */
  record Observation(
      SmtpEndpoint endpoint,
      ProbeSettings settings,
      List<Pod> pods,
      List<ProbeSource> sources,
      List<String> unavailable,
      PodLedger ledger,
      AgentLedger agents,
      long activeProbePods,
      Instant watchingSince,
      Instant now,
      Map<String, String> providerIds) {

    boolean viaAgents() {
      return settings.via() == ProbeVia.Agent;
    }
  }

  /** The settings a decision depends on. */
  record Limits(int maxConcurrentProbePods, Duration podStartTimeout, Duration startAllowance) {}

  /** Something to do once the status is written. */
  sealed interface Action {}

  /** Ask the batcher for the round's pods from these sources. */
  record StartPods(RoundStatus round, List<ProbeSource> sources, boolean urgent)
      implements Action {}

  /** Ask the agents of these sources for the round, answering by {@code deadline}. */
  record AskAgents(RoundStatus round, List<ProbeSource> sources, Instant deadline)
      implements Action {}

  /** This endpoint is done with these pods: delete each once its other endpoints are too. */
  record RetirePods(List<Pod> pods) implements Action {}

  /** A round finished: its Events, log lines and round counter. */
  record Report(
      RoundStatus round,
      List<SourceOutcome> outcomes,
      SmtpEndpointStatus previous,
      StatusAggregator.Result result)
      implements Action {}

  /** The batcher may forget what it knew of these rounds' pods. */
  record Forget(String round, List<String> sources) implements Action {}

  /**
   * The next status, what to do after writing it, and when to look again (null: only when something
   * changes).
   */
  record Plan(SmtpEndpointStatus status, List<Action> actions, Instant recheck) {}

  private final Limits limits;
  private final ProbePodReader reader;

  Round(Limits limits) {
    this.limits = limits;
    this.reader = new ProbePodReader(limits.podStartTimeout());
  }

  /** Where the endpoint's round stands, from its status and its pods. */
  static Stage stage(SmtpEndpointStatus status, List<Pod> pods, String name, Instant now) {
    return stage(status, pods, name, null, now);
  }

  /** Where the round stands, from its status, its pods, and (agent rounds) its agent calls. */
  static Stage stage(
      SmtpEndpointStatus status, List<Pod> pods, String name, AgentLedger agents, Instant now) {
    RoundStatus round = status == null ? null : status.round;
    if (round == null) {
      return Stage.IDLE;
    }
    if (now.isBefore(Instant.parse(round.startedAt))) {
      return Stage.SCHEDULED;
    }
    boolean started =
        pods.stream().anyMatch(p -> round.id.equals(ProbePodReader.roundOf(p, name)))
            || (agents != null
                && sources(round).stream()
                    .anyMatch(
                        s -> agents.asked(round.id, s) || agents.outcome(round.id, s).isPresent()));
    return Trigger.Interval.name().equals(round.trigger) && !started ? Stage.DUE : Stage.RUNNING;
  }

  /** The endpoint's next plan; {@code status} is a copy of its status this method may change. */
  Plan next(Observation o, SmtpEndpointStatus status) {
    Decision d = new Decision(o, status);
    RoundStatus round = status.round;
    if (round != null && (!Objects.equals(round.generation, d.generation) || d.probeNowRequested)) {
      d.actions.add(new Forget(round.id, sources(round)));
      status.round = null; // superseded by a spec change or probe-now
    }
    switch (stage(status, o.pods(), d.name, o.viaAgents() ? o.agents() : null, o.now())) {
      case SCHEDULED -> d.recheckAt(Instant.parse(status.round.startedAt));
      case DUE -> startDue(d);
      case RUNNING -> collect(d);
      case IDLE -> {}
    }
    if (d.status.round == null) {
      startIfTriggered(d);
    }
    if (d.status.nextProbeTime != null
        && (d.status.round == null || o.now().isBefore(Instant.parse(d.status.round.startedAt)))) {
      d.recheckAt(Instant.parse(d.status.nextProbeTime));
    }
    return new Plan(d.status, List.copyOf(d.actions), d.recheck);
  }

  /** An interval round whose time has come and has no pod: create them (maybe redated). */
  private void startDue(Decision d) {
    RoundStatus round = d.status.round;
    List<ProbeSource> sources = d.o.sources();
    if (sources.isEmpty()) {
      d.status.round = null; // reported as NoEligibleNodes just below
      return;
    }
    if (!d.o.viaAgents() && overCap(d, sources)) {
      d.recheckAt(d.o.now().plus(RECHECK_BUSY));
      return;
    }
    if (d.o.now().isAfter(Instant.parse(round.startedAt).plus(limits.podStartTimeout()))) {
      round.startedAt = d.o.now().toString(); // its deadlines run from when its pods are created
    }
    List<String> names = sources.stream().map(ProbeSource::name).toList();
    if (!names.equals(round.sources)) {
      round.sources = names;
      round.pods = names.size();
    }
    launch(d, round, sources);
  }

  /** A round whose pods were asked for: read them, and finish it when every source is known. */
  private void collect(Decision d) {
    if (d.o.viaAgents()) {
      collectFromAgents(d);
      return;
    }
    RoundStatus round = d.status.round;
    Instant now = d.o.now();
    Duration runDeadline = d.o.settings().probeDeadline(limits.startAllowance());
    List<Pod> roundPods =
        d.o.pods().stream()
            .filter(p -> round.id.equals(ProbePodReader.roundOf(p, d.name)))
            .toList();
    List<SourceOutcome> outcomes = new ArrayList<>();
    boolean waiting = false;
    for (Pod p : roundPods) {
      Optional<SourceOutcome> outcome =
          reader.read(p, d.name, runDeadline, now, d.o.watchingSince());
      if (outcome.isPresent()) {
        outcomes.add(outcome.get());
      } else {
        waiting = true;
        d.recheckAt(reader.recheckAt(p, runDeadline, d.o.watchingSince()));
      }
    }
    Set<String> present =
        roundPods.stream().map(ProbePodReader::source).collect(Collectors.toSet());
    List<String> missing = new ArrayList<>();
    for (String source : sources(round)) {
      if (present.contains(source)) {
        continue;
      }
      Optional<String> refused = d.o.ledger().refused(round.id, source);
      if (refused.isPresent()) {
        outcomes.add(
            SourceOutcome.failed(source, null, ProbeRunFailure.PodRejected, refused.get()));
      } else if (d.o.ledger().created(round.id, source)) {
        // Deleted before it was read: another pod might probe the source a second time.
        outcomes.add(
            SourceOutcome.failed(
                source,
                null,
                ProbeRunFailure.ProbePodDeleted,
                "its probe pod was deleted before its result was read"));
      } else {
        missing.add(source);
      }
    }
    if (!missing.isEmpty()) {
      Instant startedAt = Instant.parse(round.startedAt);
      if (now.isBefore(startedAt.plus(limits.podStartTimeout()).plus(runDeadline))) {
        // In status but not (all) created: being gathered, not created for now, or the operator
        // stopped in between. Asking again for a gathered round is a no-op.
        List<ProbeSource> again =
            d.o.sources().stream().filter(s -> missing.contains(s.name())).toList();
        d.actions.add(new StartPods(round, again, isUrgent(round)));
        waiting = true;
        d.recheckAt(now.plus(RECHECK_BUSY));
      } else {
        missing.forEach(
            source ->
                outcomes.add(
                    SourceOutcome.failed(
                        source,
                        null,
                        ProbeRunFailure.ProbePodDeleted,
                        "its probe pod never appeared")));
      }
    }
    if (!waiting) {
      finish(d, round, roundPods, outcomes);
    }
  }

  /**
   * A round its sources' agents were asked for: finish it when every call ended. A source this
   * process never asked (it restarted mid-round) is asked now, while the round's deadline allows.
   */
  private void collectFromAgents(Decision d) {
    RoundStatus round = d.status.round;
    Instant now = d.o.now();
    Instant deadline = agentDeadline(d, round);
    List<SourceOutcome> outcomes = new ArrayList<>();
    List<String> notAsked = new ArrayList<>();
    boolean waiting = false;
    for (String source : sources(round)) {
      Optional<SourceOutcome> outcome = d.o.agents().outcome(round.id, source);
      if (outcome.isPresent()) {
        outcomes.add(outcome.get());
      } else if (d.o.agents().asked(round.id, source)) {
        waiting = true;
      } else {
        notAsked.add(source);
      }
    }
    if (!notAsked.isEmpty()) {
      if (now.isBefore(deadline)) {
        List<ProbeSource> again =
            d.o.sources().stream().filter(s -> notAsked.contains(s.name())).toList();
        d.actions.add(new AskAgents(round, again, deadline));
        waiting = true;
      } else {
        notAsked.forEach(
            source ->
                outcomes.add(
                    SourceOutcome.failed(
                            source,
                            null,
                            ProbeRunFailure.AgentUnavailable,
                            "its probe agent was not asked before the round's deadline")
                        .via(ProbeVia.Agent)));
      }
    }
    if (waiting) {
      // The dispatcher wakes the endpoint when a call ends; this is in case it cannot.
      d.recheckAt(now.isBefore(deadline) ? deadline.plusSeconds(1) : now.plus(RECHECK_BUSY));
    } else {
      finish(d, round, List.of(), outcomes);
    }
  }

  /** When an agent round's calls must have ended: time for the agent to start, then the probe. */
  private Instant agentDeadline(Decision d, RoundStatus round) {
    return Instant.parse(round.startedAt)
        .plus(limits.podStartTimeout())
        .plus(d.o.settings().probeDeadline(limits.startAllowance()));
  }

  /** Every source's outcome is known: the next status, and the next round scheduled with it. */
  private void finish(
      Decision d, RoundStatus round, List<Pod> roundPods, List<SourceOutcome> outcomes) {
    for (String source : d.o.unavailable()) {
      if (!sources(round).contains(source)) {
        outcomes.add(
            SourceOutcome.failed(
                source,
                null,
                ProbeRunFailure.NoEligibleNodes,
                "no Ready, schedulable node in this source"));
      }
    }
    Instant startedAt = Instant.parse(round.startedAt);
    StatusAggregator.Result result =
        StatusAggregator.afterRound(
            d.status,
            d.o.settings().targets(),
            d.o.settings().ipFamily(),
            outcomes,
            d.generation,
            startedAt,
            d.o.now(),
            d.o.providerIds()::get);
    SmtpEndpointStatus previous = d.status;
    d.status = result.status();
    d.status.nextProbeTime = StatusAggregator.timestamp(startedAt.plus(d.o.settings().interval()));
    d.status.round = scheduleNext(d);
    d.actions.add(new Report(round, List.copyOf(outcomes), previous, result));
    d.actions.add(new RetirePods(roundPods));
    d.actions.add(new Forget(round.id, sources(round)));
  }

  /**
   * The next interval round, written with the result of the one that just finished so that it costs
   * no status write of its own: at its time its pods are created from this record.
   */
  private static RoundStatus scheduleNext(Decision d) {
    if (d.o.sources().isEmpty()) {
      return null; // no eligible node now: the round that comes due will say so
    }
    String id = d.roundId(Trigger.Interval);
    return record(id, d.status.nextProbeTime, Trigger.Interval, d.generation, d.o.sources());
  }

  /** No round in status: start one if one is due, or say why it cannot run. */
  private void startIfTriggered(Decision d) {
    Trigger trigger = trigger(d.status, d.generation, d.probeNowRequested, d.o.now());
    if (trigger == null) {
      return;
    }
    List<ProbeSource> sources = d.o.sources();
    if (sources.isEmpty()) {
      d.status =
          StatusAggregator.roundNotStarted(
              d.status,
              d.o.settings().targets(),
              ProbeRunFailure.NoEligibleNodes,
              "no Ready, schedulable node matches the placement",
              d.generation,
              d.o.now());
      d.status.nextProbeTime =
          StatusAggregator.timestamp(d.o.now().plus(d.o.settings().interval()));
      d.handleProbeNow();
      return;
    }
    if (!d.o.viaAgents() && overCap(d, sources)) {
      d.recheckAt(d.o.now().plus(RECHECK_BUSY));
      return;
    }
    RoundStatus round =
        record(d.roundId(trigger), d.o.now().toString(), trigger, d.generation, sources);
    d.status.round = round;
    d.handleProbeNow();
    d.recheckAt(d.o.now().plus(limits.podStartTimeout()).plusSeconds(1));
    launch(d, round, sources);
  }

  /** After the status write: other rounds' leftover pods go, this round's are asked for. */
  private void launch(Decision d, RoundStatus round, List<ProbeSource> sources) {
    List<Pod> stale =
        d.o.pods().stream()
            .filter(p -> !round.id.equals(ProbePodReader.roundOf(p, d.name)))
            .toList();
    if (!stale.isEmpty()) {
      d.actions.add(new RetirePods(stale));
    }
    if (d.o.viaAgents()) {
      Instant deadline = agentDeadline(d, round);
      d.actions.add(new AskAgents(round, sources, deadline));
      d.recheckAt(deadline.plusSeconds(1));
      return;
    }
    d.actions.add(new StartPods(round, sources, isUrgent(round)));
    d.recheckAt(d.o.now().plus(limits.podStartTimeout()).plusSeconds(1));
  }

  /** Whether the round's pods would exceed the cap on probe pods at once: it must wait. */
  private boolean overCap(Decision d, List<ProbeSource> sources) {
    return d.o.activeProbePods() + sources.size() > limits.maxConcurrentProbePods();
  }

  /** Why a round is due now, or null: a new or changed spec, probe-now, or the interval. */
  static Trigger trigger(
      SmtpEndpointStatus status, long generation, boolean probeNowRequested, Instant now) {
    if (status.observedGeneration == null) {
      return Trigger.Created;
    }
    if (status.observedGeneration != generation) {
      return Trigger.SpecChanged;
    }
    if (probeNowRequested) {
      return Trigger.ProbeNow;
    }
    if (status.nextProbeTime == null || !now.isBefore(Instant.parse(status.nextProbeTime))) {
      return Trigger.Interval;
    }
    return null;
  }

  /**
   * The round's id, derived from what started it, so that deciding twice to start the same round (a
   * reconcile that read a stale copy of the endpoint, say) makes the same pods, not more. The
   * endpoint's UID keeps an endpoint recreated under the same name from its predecessor's pods.
   */
  static String roundId(
      String uid, Trigger trigger, long generation, String probeNow, String lastRound) {
    String key =
        switch (trigger) {
          case ProbeNow -> "p/" + generation + "/" + probeNow;
          case Interval -> "i/" + generation + "/" + lastRound;
          case Created, SpecChanged -> "g/" + generation;
        };
    return ProbePodFactory.shortHash(uid + "/" + key, 5);
  }

  /** Someone asked for this round (probe-now): its pod does not wait for others to share it. */
  static boolean isUrgent(RoundStatus round) {
    return Trigger.ProbeNow.name().equals(round.trigger);
  }

  private static RoundStatus record(
      String id, String startedAt, Trigger trigger, long generation, List<ProbeSource> sources) {
    RoundStatus round = new RoundStatus();
    round.id = id;
    round.startedAt = startedAt;
    round.trigger = trigger.name();
    round.generation = generation;
    round.pods = sources.size();
    round.sources = sources.stream().map(ProbeSource::name).toList();
    return round;
  }

  private static List<String> sources(RoundStatus round) {
    return Objects.requireNonNullElse(round.sources, List.of());
  }

  /** One decision's working state: the status being built, its actions, the earliest recheck. */
  private static final class Decision {
    final Observation o;
    final String name;
    final long generation;
    final String probeNow;
    final boolean probeNowRequested;
    SmtpEndpointStatus status;
    final List<Action> actions = new ArrayList<>();
    Instant recheck;

    Decision(Observation o, SmtpEndpointStatus status) {
      this.o = o;
      this.status = status;
      this.name = o.endpoint().getMetadata().getName();
      this.generation = Objects.requireNonNullElse(o.endpoint().getMetadata().getGeneration(), 1L);
      Map<String, String> annotations = o.endpoint().getMetadata().getAnnotations();
      this.probeNow =
          annotations == null ? null : annotations.get(SmtpEndpoint.PROBE_NOW_ANNOTATION);
      this.probeNowRequested = probeNow != null && !probeNow.equals(status.probeNowHandled);
    }

    void recheckAt(Instant at) {
      if (at != null && (recheck == null || at.isBefore(recheck))) {
        recheck = at;
      }
    }

    void handleProbeNow() {
      if (probeNowRequested) {
        status.probeNowHandled = probeNow;
      }
    }

    String roundId(Trigger trigger) {
      return Round.roundId(
          o.endpoint().getMetadata().getUid(),
          trigger,
          generation,
          probeNow,
          status.lastProbeTime + status.nextProbeTime);
    }
  }
}
