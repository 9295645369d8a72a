package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.ProbeVia;
import io.smtpreach.api.RoundStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.TlsMode;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.ReportCodec;
import io.smtpreach.reconciler.Round.Action;
import io.smtpreach.reconciler.Round.AskAgents;
import io.smtpreach.reconciler.Round.Forget;
import io.smtpreach.reconciler.Round.Plan;
import io.smtpreach.reconciler.Round.Report;
import io.smtpreach.reconciler.Round.RetirePods;
import io.smtpreach.reconciler.Round.Stage;
import io.smtpreach.reconciler.Round.StartPods;
import io.smtpreach.reconciler.Round.Trigger;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The round's state machine, one transition per test: no cluster, no clock, no threads. Given an
 * endpoint, its pods, the nodes' sources and the time, when the reconciler decides, then the next
 * status, the actions after its write, and when to look again.
 */
class RoundTest {
  private static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");
  private static final ProbeSource ZONE_A = new ProbeSource("zone-a", Map.of("zone", "zone-a"));
  private static final ProbeSource ZONE_B = new ProbeSource("zone-b", Map.of("zone", "zone-b"));
  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

  private final Round round =
      new Round(new Round.Limits(200, START_TIMEOUT, Duration.ofSeconds(30)));
  private final Map<String, String> refused = new HashMap<>();
  private final Set<String> created = new HashSet<>();
  private List<ProbeSource> sources = List.of(ZONE_A, ZONE_B);
  private List<String> unavailable = List.of();
  private long activePods = 0;
  private OperatorConfig config = TestOperatorConfig.PODS_ONLY;
  private final Map<String, SourceOutcome> agentOutcomes = new HashMap<>();
  private final Set<String> asked = new HashSet<>();

  // --- starting ---

  @Test
  void aNewEndpointStartsARoundFromEverySourceAndRecordsItFirst() {
    SmtpEndpoint ep = endpoint(null);

    Plan plan = decide(ep, List.of(), T0);

    RoundStatus r = plan.status().round;
    assertThat(r.trigger).isEqualTo("Created");
    assertThat(r.sources).containsExactly("zone-a", "zone-b");
    assertThat(r.startedAt).isEqualTo(T0.toString());
    assertThat(only(plan, StartPods.class).sources()).containsExactly(ZONE_A, ZONE_B);
    assertThat(only(plan, StartPods.class).urgent()).isFalse();
    assertThat(plan.recheck()).isEqualTo(T0.plus(START_TIMEOUT).plusSeconds(1));
  }

  @Test
  void withNoEligibleSourceTheRoundDoesNotStartAndNothingKnownIsLost() {
    SmtpEndpoint ep = endpoint(finished(T0, "zone-a", Reason.OK, "zone-b", Reason.CONNECT_TIMEOUT));
    sources = List.of();
    unavailable = List.of("zone-a", "zone-b");

    Plan plan = decide(ep, List.of(), T0.plus(Duration.ofMinutes(6)));

    assertThat(plan.status().round).isNull();
    assertThat(plan.actions()).isEmpty();
    assertThat(condition(plan.status())).isEqualTo("False/NoEligibleNodes");
    assertThat(plan.status().ports.get(0).sources)
        .extracting(s -> s.name + "=" + s.state)
        .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Blocked");
    assertThat(plan.status().nextProbeTime)
        .isEqualTo(StatusAggregator.timestamp(T0.plus(Duration.ofMinutes(11))));
  }

  @Test
  void aRoundOverTheCapWaitsWithoutARecord() {
    activePods = 199;

    Plan plan = decide(endpoint(null), List.of(), T0);

    assertThat(plan.status().round).isNull();
    assertThat(plan.actions()).isEmpty();
    assertThat(plan.recheck()).isEqualTo(T0.plus(Round.RECHECK_BUSY));
  }

  @Test
  void probeNowStartsAnUrgentRoundOnceAndSupersedesTheScheduledOne() {
    SmtpEndpointStatus s = finished(T0, "zone-a", Reason.OK, "zone-b", Reason.OK);
    SmtpEndpoint ep = endpoint(s);
    ep.getMetadata().setAnnotations(Map.of(SmtpEndpoint.PROBE_NOW_ANNOTATION, "please"));
    String scheduled = s.round.id;

    Plan plan = decide(ep, List.of(), T0.plusSeconds(10));

    assertThat(plan.status().round.trigger).isEqualTo("ProbeNow");
    assertThat(plan.status().probeNowHandled).isEqualTo("please");
    assertThat(only(plan, StartPods.class).urgent()).isTrue();
    assertThat(only(plan, Forget.class).round()).isEqualTo(scheduled);

    ep.setStatus(plan.status());
    assertThat(decide(ep, List.of(), T0.plusSeconds(11)).status().round.id)
        .as("asked again before its pods exist: the same round")
        .isEqualTo(plan.status().round.id);
  }

  @Test
  void aSpecChangeSupersedesTheRoundInFlightAndItsPodsGo() {
    SmtpEndpoint ep = endpoint(finished(T0, "zone-a", Reason.OK, "zone-b", Reason.OK));
    Instant due = T0.plus(Duration.ofMinutes(5));
    String inFlight = ep.getStatus().round.id;
    Pod old = running(ep, inFlight, "zone-a");
    ep.getMetadata().setGeneration(2L);

    Plan plan = decide(ep, List.of(old), due.plusSeconds(3));

    assertThat(plan.status().round.trigger).isEqualTo("SpecChanged");
    assertThat(plan.status().round.id).isNotEqualTo(inFlight);
    assertThat(only(plan, Forget.class).round()).isEqualTo(inFlight);
    assertThat(only(plan, RetirePods.class).pods()).containsExactly(old);
  }

  // --- scheduled and due ---

  @Test
  void aScheduledRoundWaitsForItsTime() {
    SmtpEndpoint ep = endpoint(finished(T0, "zone-a", Reason.OK, "zone-b", Reason.OK));

    Plan plan = decide(ep, List.of(), T0.plusSeconds(60));

    assertThat(Round.stage(ep.getStatus(), List.of(), "mail", T0.plusSeconds(60)))
        .isEqualTo(Stage.SCHEDULED);
    assertThat(plan.actions()).isEmpty();
    assertThat(plan.recheck()).isEqualTo(T0.plus(Duration.ofMinutes(5)));
    assertThat(plan.status().round).usingRecursiveComparison().isEqualTo(ep.getStatus().round);
  }

  @Test
  void aDueRoundStartsFromItsRecordWithNoWriteOfItsOwn() {
    SmtpEndpoint ep = endpoint(finished(T0, "zone-a", Reason.OK, "zone-b", Reason.OK));
    Instant due = T0.plus(Duration.ofMinutes(5));

    Plan plan = decide(ep, List.of(), due);

    assertThat(Round.stage(ep.getStatus(), List.of(), "mail", due)).isEqualTo(Stage.DUE);
    assertThat(plan.status().round).usingRecursiveComparison().isEqualTo(ep.getStatus().round);
    assertThat(only(plan, StartPods.class).round().id).isEqualTo(ep.getStatus().round.id);
  }

  @Test
  void aDueRoundThatWaitedIsRedatedAndTakesTheSourcesThereAreNow() {
    SmtpEndpoint ep = endpoint(finished(T0, "zone-a", Reason.OK, "zone-b", Reason.OK));
    Instant late = T0.plus(Duration.ofMinutes(9));
    sources = List.of(ZONE_A);

    Plan plan = decide(ep, List.of(), late);

    assertThat(plan.status().round.startedAt).isEqualTo(late.toString());
    assertThat(plan.status().round.sources).containsExactly("zone-a");
    assertThat(only(plan, StartPods.class).sources()).containsExactly(ZONE_A);
  }

  // --- running ---

  @Test
  void aRoundWaitsForItsPodsAndComesBackWhenTheyShouldHaveEnded() {
    Started s = started();
    Pod a = running(s.ep, s.id, "zone-a");
    Pod b = running(s.ep, s.id, "zone-b");

    Plan plan = decide(s.ep, List.of(a, b), T0.plusSeconds(2));

    assertThat(Round.stage(s.ep.getStatus(), List.of(a, b), "mail", T0.plusSeconds(2)))
        .isEqualTo(Stage.RUNNING);
    assertThat(plan.actions()).isEmpty();
    assertThat(plan.status().round.id).isEqualTo(s.id);
    assertThat(plan.recheck()).isAfter(T0.plusSeconds(2));
  }

  @Test
  void whenEverySourceIsKnownTheRoundFinishesAndTheNextIsScheduledInTheSameWrite() {
    Started s = started();
    Pod a = ended(s.ep, s.id, "zone-a", Reason.OK);
    Pod b = ended(s.ep, s.id, "zone-b", Reason.CONNECT_TIMEOUT);

    Plan plan = decide(s.ep, List.of(a, b), T0.plusSeconds(4));

    SmtpEndpointStatus st = plan.status();
    assertThat(st.ports.get(0).state).isEqualTo("Blocked");
    assertThat(st.lastProbeTime).isEqualTo(StatusAggregator.timestamp(T0));
    assertThat(st.nextProbeTime).isEqualTo(StatusAggregator.timestamp(T0.plusSeconds(300)));
    assertThat(st.round.trigger).isEqualTo("Interval");
    assertThat(st.round.startedAt).isEqualTo(st.nextProbeTime);
    assertThat(only(plan, Report.class).result().changes()).hasSize(2);
    assertThat(only(plan, RetirePods.class).pods()).containsExactly(a, b);
    assertThat(only(plan, Forget.class).round()).isEqualTo(s.id);
    assertThat(plan.recheck()).isEqualTo(T0.plusSeconds(300));
  }

  @Test
  void aPodDeletedBeforeItWasReadIsNotAskedForAgain() {
    Started s = started();
    created.add(s.id + "/zone-b");
    Pod a = ended(s.ep, s.id, "zone-a", Reason.OK);

    Plan plan = decide(s.ep, List.of(a), T0.plusSeconds(4));

    assertThat(actions(plan, StartPods.class)).as("zone-b not probed twice").isEmpty();
    assertThat(condition(plan.status())).isEqualTo("False/ProbePodDeleted");
    assertThat(plan.status().ports.get(0).sources)
        .extracting(x -> x.name)
        .containsExactly("zone-a");
  }

  @Test
  void aPodNotYetCreatedIsAskedForAgainOnlyForItsSource() {
    Started s = started();
    Pod a = running(s.ep, s.id, "zone-a");

    Plan plan = decide(s.ep, List.of(a), T0.plusSeconds(4));

    assertThat(only(plan, StartPods.class).sources()).containsExactly(ZONE_B);
    assertThat(plan.recheck()).isEqualTo(T0.plusSeconds(4).plus(Round.RECHECK_BUSY));
  }

  @Test
  void aPodThatNeverAppearsEndsItsSourceAtTheDeadline() {
    Started s = started();
    Pod a = ended(s.ep, s.id, "zone-a", Reason.OK);

    Plan plan = decide(s.ep, List.of(a), T0.plus(Duration.ofMinutes(10)));

    assertThat(actions(plan, StartPods.class)).isEmpty();
    assertThat(condition(plan.status())).isEqualTo("False/ProbePodDeleted");
  }

  @Test
  void aRefusedPodEndsItsSourceWithTheServersWords() {
    Started s = started();
    refused.put(s.id + "/zone-b", "exceeded quota: pods");
    Pod a = ended(s.ep, s.id, "zone-a", Reason.OK);

    Plan plan = decide(s.ep, List.of(a), T0.plusSeconds(4));

    assertThat(condition(plan.status())).isEqualTo("False/PodRejected");
    assertThat(
            Conditions.find(plan.status().conditions, ConditionTypes.PROBES_RUNNING)
                .orElseThrow()
                .getMessage())
        .contains("exceeded quota: pods");
  }

  @Test
  void aZoneCordonedDuringTheRoundKeepsItsStateAndSaysItDidNotRun() {
    SmtpEndpointStatus before = finished(T0, "zone-a", Reason.OK, "zone-b", Reason.CONNECT_TIMEOUT);
    SmtpEndpoint ep = endpoint(before);
    Instant due = T0.plus(Duration.ofMinutes(5));
    sources = List.of(ZONE_A);
    unavailable = List.of("zone-b");
    Plan start = decide(ep, List.of(), due);
    ep.setStatus(start.status());
    Pod a = ended(ep, start.status().round.id, "zone-a", Reason.OK);

    Plan plan = decide(ep, List.of(a), due.plusSeconds(4));

    assertThat(plan.status().ports.get(0).sources)
        .extracting(x -> x.name + "=" + x.state)
        .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Blocked");
    assertThat(condition(plan.status())).isEqualTo("False/NoEligibleNodes");
  }

  // --- ids ---

  @Test
  void theSameTriggerGivesTheSameIdAndAnotherTriggerAnother() {
    String created = Round.roundId("u1", Trigger.Created, 1, null, null);
    assertThat(created).hasSize(10).matches("[0-9a-f]+");
    assertThat(Round.roundId("u1", Trigger.Created, 1, null, null)).isEqualTo(created);
    assertThat(Round.roundId("u1", Trigger.SpecChanged, 2, null, null)).isNotEqualTo(created);
    assertThat(Round.roundId("u1", Trigger.ProbeNow, 1, "a", null))
        .isNotEqualTo(Round.roundId("u1", Trigger.ProbeNow, 1, "b", null));
    assertThat(Round.roundId("u1", Trigger.Interval, 1, null, "t1"))
        .isNotEqualTo(Round.roundId("u1", Trigger.Interval, 1, null, "t2"));
  }

  @Test
  void anEndpointRecreatedUnderTheSameNameNeverSharesARoundWithItsPredecessor() {
    assertThat(Round.roundId("u2", Trigger.Created, 1, null, null))
        .isNotEqualTo(Round.roundId("u1", Trigger.Created, 1, null, null));
  }

  // --- agents ---

  @Test
  void anAgentRoundAsksEachSourcesAgentAndCreatesNoPod() {
    config = TestOperatorConfig.DEFAULTS;
    activePods = 200; // pods at their cap do not hold agent rounds back

    Plan plan = decide(endpoint(null), List.of(), T0);

    AskAgents ask = only(plan, AskAgents.class);
    assertThat(ask.sources()).containsExactly(ZONE_A, ZONE_B);
    // Time for the agent to start, then the probe's own deadline (2 x 10s + 30s).
    assertThat(ask.deadline()).isEqualTo(T0.plus(START_TIMEOUT).plusSeconds(50));
    assertThat(plan.actions()).noneMatch(a -> a instanceof StartPods);
    assertThat(plan.status().round.sources).containsExactly("zone-a", "zone-b");
  }

  @Test
  void anAgentRoundFinishesWhenEveryCallEndedAndAnUnavailableAgentChangesNoPort() {
    config = TestOperatorConfig.DEFAULTS;
    SmtpEndpoint ep = endpoint(null);
    ep.setStatus(decide(ep, List.of(), T0).status());
    String id = ep.getStatus().round.id;
    asked.add(id + "/zone-a");
    asked.add(id + "/zone-b");
    agentOutcomes.put(id + "/zone-a", agentReport("zone-a", Reason.OK));

    Plan waiting = decide(ep, List.of(), T0.plusSeconds(2));
    assertThat(waiting.status().round.id).as("zone-b's call has not ended").isEqualTo(id);
    assertThat(waiting.actions()).noneMatch(a -> a instanceof AskAgents);

    agentOutcomes.put(
        id + "/zone-b",
        SourceOutcome.failed("zone-b", null, ProbeRunFailure.AgentUnavailable, "busy")
            .via(ProbeVia.Agent));
    Plan done = decide(ep, List.of(), T0.plusSeconds(3));

    SmtpEndpointStatus s = done.status();
    assertThat(s.ports.get(0).sources)
        .extracting(src -> src.name + ":" + src.state + ":" + src.via)
        .containsExactly("zone-a:Reachable:Agent");
    assertThat(Conditions.find(s.conditions, ConditionTypes.PROBES_RUNNING).orElseThrow())
        .satisfies(c -> assertThat(c.getReason()).isEqualTo("AgentUnavailable"));
    assertThat(done.actions()).anyMatch(a -> a instanceof Forget);
  }

  @Test
  void anAgentRoundThisProcessNeverAskedIsAskedAgainWhileItsDeadlineAllows() {
    config = TestOperatorConfig.DEFAULTS;
    SmtpEndpoint ep = endpoint(null);
    ep.setStatus(decide(ep, List.of(), T0).status());
    // A restarted operator: nothing asked, nothing known.

    Plan again = decide(ep, List.of(), T0.plusSeconds(10));
    assertThat(only(again, AskAgents.class).sources()).containsExactly(ZONE_A, ZONE_B);

    Plan late = decide(ep, List.of(), T0.plus(START_TIMEOUT).plusSeconds(60));
    assertThat(late.status().round.id).isNotEqualTo(ep.getStatus().round.id);
    assertThat(Conditions.find(late.status().conditions, ConditionTypes.PROBES_RUNNING))
        .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("AgentUnavailable"));
  }

  @Test
  void anEndpointThatNeedsAPodIsProbedByAPodEvenWithAgents() {
    config = TestOperatorConfig.DEFAULTS;
    SmtpEndpoint ep = endpoint(null);
    ep.getSpec().probe = new io.smtpreach.api.ProbeSpec();
    ep.getSpec().probe.labels = Map.of("app", "mailer");

    Plan plan = decide(ep, List.of(), T0);

    assertThat(only(plan, StartPods.class).sources()).containsExactly(ZONE_A, ZONE_B);
    assertThat(plan.actions()).noneMatch(a -> a instanceof AskAgents);
  }

  private static SourceOutcome agentReport(String source, Reason reason) {
    ProbeResult r =
        ProbeResult.builder(
                "smtp.example.com",
                new ProbeTarget(587, io.smtpreach.probe.TlsMode.STARTTLS),
                IpFamily.ANY)
            .negotiated(reason == Reason.OK ? io.smtpreach.probe.TlsMode.STARTTLS : null)
            .build(reason, reason.displayName());
    return SourceOutcome.ran(
            source, "node-" + source, new ProbeReport("smtp.example.com", false, T0, List.of(r)))
        .via(ProbeVia.Agent);
  }

  // --- givens ---

  private record Started(SmtpEndpoint ep, String id) {}

  /** A new endpoint whose first round was started at T0 from both zones. */
  private Started started() {
    SmtpEndpoint ep = endpoint(null);
    ep.setStatus(decide(ep, List.of(), T0).status());
    return new Started(ep, ep.getStatus().round.id);
  }

  /** The status after a first round at {@code at} (next one scheduled): zone, reason pairs. */
  private SmtpEndpointStatus finished(Instant at, Object... verdicts) {
    Started s = started();
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < verdicts.length; i += 2) {
      pods.add(ended(s.ep, s.id, (String) verdicts[i], (Reason) verdicts[i + 1]));
    }
    assertThat(at).isEqualTo(T0);
    return decide(s.ep, pods, T0.plusSeconds(4)).status();
  }

  private Plan decide(SmtpEndpoint ep, List<Pod> pods, Instant now) {
    SmtpEndpointStatus status = new SmtpEndpointStatus();
    if (ep.getStatus() != null) {
      status = copy(ep.getStatus());
    }
    StatusAggregator.initialConditions(
        status, Optional.ofNullable(ep.getMetadata().getGeneration()).orElse(1L), now);
    Round.Observation o =
        new Round.Observation(
            ep,
            ProbeSettings.of(ep, config),
            pods,
            sources,
            unavailable,
            new Round.PodLedger() {
              @Override
              public Optional<String> refused(String round, String source) {
                return Optional.ofNullable(refused.get(round + "/" + source));
              }

              @Override
              public boolean created(String round, String source) {
                return created.contains(round + "/" + source);
              }
            },
            new Round.AgentLedger() {
              @Override
              public Optional<SourceOutcome> outcome(String round, String source) {
                return Optional.ofNullable(agentOutcomes.get(round + "/" + source));
              }

              @Override
              public boolean asked(String round, String source) {
                return asked.contains(round + "/" + source);
              }
            },
            activePods,
            Instant.EPOCH,
            now,
            Map.of());
    return round.next(o, status);
  }

  private static SmtpEndpointStatus copy(SmtpEndpointStatus s) {
    var json = io.fabric8.kubernetes.client.utils.Serialization.asJson(s);
    return io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
        json, SmtpEndpointStatus.class);
  }

  private static SmtpEndpoint endpoint(SmtpEndpointStatus status) {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    SmtpEndpoint ep = ProbePodFactoryTest.endpoint(spec);
    ep.getMetadata().setGeneration(1L);
    ep.setStatus(status);
    return ep;
  }

  private static Pod running(SmtpEndpoint ep, String round, String source) {
    return pod(ep, round, source).withNewStatus().withPhase("Running").endStatus().build();
  }

  private static Pod ended(SmtpEndpoint ep, String round, String source, Reason reason) {
    ProbeResult r =
        ProbeResult.builder(
                "smtp.example.com",
                new ProbeTarget(587, io.smtpreach.probe.TlsMode.STARTTLS),
                IpFamily.ANY)
            .negotiated(reason == Reason.OK ? io.smtpreach.probe.TlsMode.STARTTLS : null)
            .build(reason, reason.displayName());
    String message =
        BatchCodec.encode(
            List.of(
                BatchCodec.Entry.probed(
                    new ProbeReport("smtp.example.com", false, T0, List.of(r)))),
            ReportCodec.TERMINATION_MESSAGE_LIMIT);
    return pod(ep, round, source)
        .withNewStatus()
        .withPhase("Succeeded")
        .addNewContainerStatus()
        .withName("probe")
        .withNewState()
        .withNewTerminated()
        .withExitCode(0)
        .withMessage(message)
        .endTerminated()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  private static PodBuilder pod(SmtpEndpoint ep, String round, String source) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("pod-" + round + "-" + source)
        .withNamespace("team")
        .withCreationTimestamp(T0.toString())
        .addToAnnotations(ProbePodFactory.SOURCE_ANNOTATION, source)
        .addToAnnotations(
            ProbePodFactory.MEMBERS_ANNOTATION, ep.getMetadata().getName() + "=" + round)
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-" + source)
        .endSpec();
  }

  private static <A extends Action> List<A> actions(Plan plan, Class<A> type) {
    return plan.actions().stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static <A extends Action> A only(Plan plan, Class<A> type) {
    List<A> found = actions(plan, type);
    assertThat(found).as(type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static String condition(SmtpEndpointStatus s) {
    var c = Conditions.find(s.conditions, ConditionTypes.PROBES_RUNNING).orElseThrow();
    return c.getStatus() + "/" + c.getReason();
  }
}
