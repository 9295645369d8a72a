package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.smtpreach.api.ProbeVia;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.reconciler.ProbePodFactory.Member;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Asking agents: once per round and source, every call ends as an outcome, and wakes its endpoint.
 */
class AgentDispatcherTest {
  private static final ProbeSource ZONE_A = new ProbeSource("zone-a", Map.of("zone", "zone-a"));
  private static final URI AGENT = URI.create("http://198.18.101.7:8440");

  private final AtomicReference<Optional<AgentDispatcher.Target>> ready =
      new AtomicReference<>(Optional.of(new AgentDispatcher.Target(AGENT, "node-a")));
  private final AtomicInteger calls = new AtomicInteger();
  private final ConcurrentLinkedQueue<ResourceID> woken = new ConcurrentLinkedQueue<>();
  private volatile AgentDispatcher.Transport transport =
      (uri, args, deadline) -> {
        calls.incrementAndGet();
        return reports(args);
      };
  private final AgentDispatcher dispatcher =
      new AgentDispatcher(
          source -> ready.get(),
          (u, a, d) -> transport.probe(u, a, d),
          4,
          Duration.ofSeconds(30),
          woken::add);

  @AfterEach
  void close() {
    dispatcher.close();
  }

  @Test
  void aRoundIsAskedOncePerSourceAndItsAnswerWakesTheEndpoint() {
    Member m = member("r1");
    dispatcher.ask(m, ZONE_A, Instant.now().plusSeconds(5), Instant.now().plusSeconds(30));
    dispatcher.ask(m, ZONE_A, Instant.now().plusSeconds(5), Instant.now().plusSeconds(30));

    await().until(() -> dispatcher.outcome("team", "mail", "r1", "zone-a").isPresent());
    SourceOutcome o = dispatcher.outcome("team", "mail", "r1", "zone-a").orElseThrow();
    assertThat(o.ran()).isTrue();
    assertThat(o.node()).isEqualTo("node-a");
    assertThat(o.via()).isEqualTo(ProbeVia.Agent);
    assertThat(calls.get()).isEqualTo(1);
    assertThat(woken).contains(new ResourceID("mail", "team"));

    dispatcher.forget("team", "mail", "r1", List.of("zone-a"));
    assertThat(dispatcher.asked("team", "mail", "r1", "zone-a")).isFalse();
    assertThat(dispatcher.outcome("team", "mail", "r1", "zone-a")).isEmpty();
  }

  @Test
  void anAgentThatFailsOrNeverBecomesReadyIsAgentUnavailable() {
    transport =
        (uri, args, deadline) -> {
          throw new java.io.IOException("connection refused");
        };
    dispatcher.ask(member("r1"), ZONE_A, Instant.now(), Instant.now().plusSeconds(30));
    await().until(() -> dispatcher.outcome("team", "mail", "r1", "zone-a").isPresent());
    SourceOutcome refused = dispatcher.outcome("team", "mail", "r1", "zone-a").orElseThrow();
    assertThat(refused.failure()).isEqualTo(ProbeRunFailure.AgentUnavailable);
    assertThat(refused.message()).contains("zone-a").contains("connection refused");

    ready.set(Optional.empty());
    dispatcher.ask(
        member("r2"), ZONE_A, Instant.now().plusMillis(1500), Instant.now().plusSeconds(30));
    assertThat(dispatcher.outcome("team", "mail", "r2", "zone-a")).as("still waiting").isEmpty();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> dispatcher.outcome("team", "mail", "r2", "zone-a").isPresent());
    assertThat(dispatcher.outcome("team", "mail", "r2", "zone-a").orElseThrow().message())
        .contains("no ready probe agent for zone-a");
  }

  @Test
  void aCallGetsWhatAProbeWouldNotTheTimeLeftForAnAgentToStart() {
    AtomicReference<Instant> given = new AtomicReference<>();
    transport =
        (uri, args, deadline) -> {
          given.set(deadline);
          return reports(args);
        };
    Instant roundDeadline = Instant.now().plusSeconds(600);
    dispatcher.ask(member("r1"), ZONE_A, Instant.now().plusSeconds(120), roundDeadline);

    await().until(() -> given.get() != null);
    // 2 x the 10 s timeout + 30 s: what a started probe pod gets.
    assertThat(given.get()).isBefore(Instant.now().plusSeconds(51)).isBefore(roundDeadline);
  }

  @Test
  void anAgentThatBecomesReadyInTimeIsCalled() {
    ready.set(Optional.empty());
    dispatcher.ask(
        member("r1"), ZONE_A, Instant.now().plusSeconds(20), Instant.now().plusSeconds(30));
    ready.set(Optional.of(new AgentDispatcher.Target(AGENT, "node-a")));
    await().until(() -> dispatcher.outcome("team", "mail", "r1", "zone-a").isPresent());
    assertThat(dispatcher.outcome("team", "mail", "r1", "zone-a").orElseThrow().ran()).isTrue();
  }

  @Test
  void asksBeyondTheCallsAnAgentHasUnderWayWaitAndThenShareACall() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> sizes = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    transport =
        (uri, args, deadline) -> {
          sizes.add(args.size());
          release.await(10, TimeUnit.SECONDS);
          return reports(args);
        };
    int asks = AgentDispatcher.CALLS_PER_AGENT + 20;
    for (int i = 0; i < asks; i++) {
      dispatcher.ask(
          member("mail-" + i, "r1", null),
          ZONE_A,
          Instant.now().plusSeconds(5),
          Instant.now().plusSeconds(300));
    }
    await().until(() -> sizes.size() == AgentDispatcher.CALLS_PER_AGENT);
    assertThat(sizes).as("one endpoint each while calls are free").containsOnly(1);
    release.countDown();

    await()
        .until(
            () ->
                java.util.stream.IntStream.range(0, asks)
                    .allMatch(
                        i -> dispatcher.outcome("team", "mail-" + i, "r1", "zone-a").isPresent()));
    for (int i = 0; i < asks; i++) {
      assertThat(dispatcher.outcome("team", "mail-" + i, "r1", "zone-a").orElseThrow().ran())
          .isTrue();
    }
    assertThat(sizes)
        .as("the 20 that waited went in two calls of at most 16")
        .hasSize(AgentDispatcher.CALLS_PER_AGENT + 2)
        .allMatch(n -> n <= AgentDispatcher.ENDPOINTS_PER_CALL);
    assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(asks);
  }

  @Test
  void onlyAsksWithTheSameProbeDeadlineShareACallAndAFailedCallFailsEachOfItsAsks()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<List<List<String>>> sent =
        java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    transport =
        (uri, args, deadline) -> {
          sent.add(args);
          release.await(10, TimeUnit.SECONDS);
          if (args.size() > 1) {
            throw new java.net.ConnectException("connection refused");
          }
          return reports(args);
        };
    for (int i = 0; i < AgentDispatcher.CALLS_PER_AGENT; i++) {
      dispatcher.ask(
          member("busy-" + i, "r1", null), ZONE_A, Instant.now(), Instant.now().plusSeconds(300));
    }
    await().until(() -> sent.size() == AgentDispatcher.CALLS_PER_AGENT);
    dispatcher.ask(member("a", "r1", null), ZONE_A, Instant.now(), Instant.now().plusSeconds(300));
    dispatcher.ask(
        member("slow", "r1", "30s"), ZONE_A, Instant.now(), Instant.now().plusSeconds(300));
    dispatcher.ask(member("b", "r1", null), ZONE_A, Instant.now(), Instant.now().plusSeconds(300));
    release.countDown();

    await()
        .until(
            () ->
                java.util.stream.Stream.of("a", "slow", "b")
                    .allMatch(n -> dispatcher.outcome("team", n, "r1", "zone-a").isPresent()));
    assertThat(sent).hasSize(AgentDispatcher.CALLS_PER_AGENT + 2);
    assertThat(dispatcher.outcome("team", "slow", "r1", "zone-a").orElseThrow().ran())
        .as("a 30 s timeout goes alone")
        .isTrue();
    for (String n : List.of("a", "b")) {
      SourceOutcome o = dispatcher.outcome("team", n, "r1", "zone-a").orElseThrow();
      assertThat(o.failure()).as(n).isEqualTo(ProbeRunFailure.AgentUnavailable);
      assertThat(o.message()).contains("connection refused");
    }
    assertThat(woken).contains(new ResourceID("a", "team"), new ResourceID("b", "team"));
  }

  @Test
  void aBusyAgentsWaitingAsksDoNotKeepThePoolFromAnotherAgent() throws Exception {
    ProbeSource zoneB = new ProbeSource("zone-b", Map.of("zone", "zone-b"));
    URI agentB = URI.create("http://198.18.102.7:8440");
    CountDownLatch release = new CountDownLatch(1);
    List<URI> order = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    try (AgentDispatcher two =
        new AgentDispatcher(
            source ->
                Optional.of(
                    new AgentDispatcher.Target(source.equals(zoneB) ? agentB : AGENT, "node")),
            (uri, args, deadline) -> {
              order.add(uri);
              release.await(10, TimeUnit.SECONDS);
              return reports(args);
            },
            AgentDispatcher.CALLS_PER_AGENT, // every thread of the pool busy with zone-a
            Duration.ofSeconds(30),
            id -> {})) {
      for (int i = 0; i < AgentDispatcher.CALLS_PER_AGENT + 40; i++) {
        two.ask(
            member("a-" + i, "r1", null), ZONE_A, Instant.now(), Instant.now().plusSeconds(300));
      }
      await().until(() -> order.size() == AgentDispatcher.CALLS_PER_AGENT);
      two.ask(member("b", "r1", null), zoneB, Instant.now(), Instant.now().plusSeconds(300));
      release.countDown();
      await().until(() -> two.outcome("team", "b", "r1", "zone-b").isPresent());
      await()
          .until(
              () ->
                  java.util.stream.IntStream.range(0, AgentDispatcher.CALLS_PER_AGENT + 40)
                      .allMatch(i -> two.outcome("team", "a-" + i, "r1", "zone-a").isPresent()));
    }
    assertThat(order.indexOf(agentB))
        .as("zone-b's call, queued first, went before zone-a's asks that waited after it")
        .isLessThan(order.lastIndexOf(AGENT));
  }

  private static List<BatchCodec.Entry> reports(List<List<String>> args) {
    return args.stream()
        .map(
            a ->
                BatchCodec.Entry.probed(
                    new ProbeReport("smtp.example.com", false, Instant.now(), List.of())))
        .toList();
  }

  private static Member member(String round) {
    return member("mail", round, null);
  }

  private static Member member(String name, String round, String timeout) {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.timeout = timeout;
    var ep = ProbePodFactoryTest.endpoint(spec);
    ep.getMetadata().setName(name);
    return new Member(ep, ProbeSettings.of(ep, TestOperatorConfig.DEFAULTS), round);
  }
}
