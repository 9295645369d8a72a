package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.KEY;
import static io.smtpreach.agent.AgentFixture.args;
import static io.smtpreach.agent.AgentSecurityTest.assertFailure;
import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.Reason;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * An agent takes on a bounded amount of work and says so at once when it is full; it never works
 * past a request's deadline, and its client never waits past the caller's.
 */
class AgentLimitsTest {
  @Test
  void whenEveryPlaceIsTakenARequestIsBusyAtOnceAndThePlacesComeBackAfterwards() throws Exception {
    DialogueCounter counter = new DialogueCounter();
    AgentLimits oneAndOneWaiting = AgentLimits.defaults().withConcurrency(1, 1);
    List<String> held = args("--timeout=20s", "--read-timeout=20s", "--", "127.0.0.1");
    try (AgentFixture fixture = AgentFixture.start(oneAndOneWaiting);
        FaultServer tarpit = FaultServer.start(counter.around(FaultServer.silent()))) {
      List<String> holding = new ArrayList<>(List.of("--port=" + tarpit.port() + ":none"));
      holding.addAll(held);
      // Two endpoints: one probing, one waiting its turn.
      CompletableFuture<List<BatchCodec.Entry>> first =
          CompletableFuture.supplyAsync(
              () -> probe(fixture, Duration.ofSeconds(60), holding, holding));
      await().atMost(Duration.ofSeconds(10)).until(() -> counter.accepted.get() >= 1);

      List<String> quick = args("--port=" + AgentFixture.closedPort() + ":none", "--", "127.0.0.1");
      assertThatThrownBy(() -> fixture.probe(Duration.ofSeconds(20), quick))
          .isInstanceOfSatisfying(
              AgentFailure.class,
              busy -> {
                assertThat(busy.kind()).isEqualTo(AgentFailure.Kind.BUSY);
                assertThat(busy.retryAfter()).isEqualTo(Duration.ofSeconds(5));
              });
      assertThat(fixture.get(ProbeAgent.READY_PATH).statusCode())
          .as("a busy agent stays ready: each request is told it is busy")
          .isEqualTo(200);

      tarpit.close();
      assertThat(first.get()).hasSize(2);
      assertThat(fixture.probe(Duration.ofSeconds(20), quick))
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.report().results().get(0).reason())
                      .isEqualTo(Reason.CONNECTION_REFUSED));
    }
  }

  @Test
  void noMoreEndpointsAreProbedAtOnceThanTheAgentAllows() throws Exception {
    DialogueCounter counter = new DialogueCounter();
    // The greeting waits long enough for probes to overlap, not so long that a probe sniffs TLS.
    FaultServer.Behaviour slowGreeting =
        FaultServer.smtp(plain().greetingDelay(Duration.ofMillis(200)).heardInto(counter.heard()));
    try (AgentFixture fixture = AgentFixture.start(AgentLimits.defaults().withConcurrency(2, 10));
        FaultServer smtp = FaultServer.start(counter.around(slowGreeting))) {
      List<String> endpoint = args("--port=" + smtp.port() + ":none", "--", "127.0.0.1");
      @SuppressWarnings("unchecked")
      List<String>[] six = Collections.nCopies(6, endpoint).toArray(List[]::new);

      List<BatchCodec.Entry> entries = fixture.probe(Duration.ofSeconds(60), six);

      assertThat(entries)
          .hasSize(6)
          .allSatisfy(e -> assertThat(e.report().results().get(0).reason()).isEqualTo(Reason.OK));
      assertThat(counter.accepted).hasValue(6);
      assertThat(counter.mostAtOnce).hasValue(2);
    }
  }

  @Test
  void aRequestBeyondTheSizeLimitsIsRefusedAsTooLarge() throws Exception {
    try (AgentFixture fixture = AgentFixture.start(AgentLimits.defaults().withMaxBodyBytes(1024))) {
      byte[] big = AgentFixture.body(Duration.ofSeconds(10), args("--ehlo=" + "x".repeat(2000)));

      assertThat(fixture.post(ProbeAgent.PROBE_PATH, big).statusCode()).isEqualTo(413);
      assertThat(
              fixture
                  .post(ProbeAgent.PROBE_PATH, big, AgentFixture.signed(KEY, big, Instant.now()))
                  .statusCode())
          .isEqualTo(413);
    }
    try (AgentFixture fixture = AgentFixture.start()) {
      List<List<String>> tooMany = Collections.nCopies(65, args("127.0.0.1"));
      assertFailure(
          () -> fixture.client.probe(fixture.uri(), tooMany, Instant.now().plusSeconds(10)),
          AgentFailure.Kind.REJECTED);
    }
  }

  @Test
  void theAgentStartsNoProbeThatCouldNotEndByTheRequestsDeadline() throws Exception {
    DialogueCounter counter = new DialogueCounter();
    try (AgentFixture fixture = AgentFixture.start();
        FaultServer tarpit = FaultServer.start(counter.around(FaultServer.silent()))) {
      List<BatchCodec.Entry> entries =
          fixture.probe(
              Duration.ofSeconds(5),
              args("--port=" + tarpit.port() + ":none", "--timeout=30s", "--", "127.0.0.1"));

      assertThat(entries)
          .singleElement()
          .satisfies(e -> assertThat(e.error()).contains("not probed"));
      assertThat(counter.accepted).hasValue(0);
    }
  }

  @Test
  void anAgentThatNeverAnswersDoesNotHoldItsClientPastTheDeadline() throws Exception {
    // Connections complete in the kernel's backlog; nobody ever reads or answers them.
    try (ServerSocket mute = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      AgentClient client = new AgentClient(KEY);
      Instant deadline = Instant.now().plusSeconds(1);

      assertFailure(
          () ->
              client.probe(
                  URI.create("http://127.0.0.1:" + mute.getLocalPort()),
                  List.of(args("127.0.0.1")),
                  deadline),
          AgentFailure.Kind.TIMED_OUT);
      assertThat(Instant.now())
          .as("back by the deadline, give or take a scheduler's tick")
          .isBefore(deadline.plusSeconds(2));
    }
  }

  @Test
  void aClientWithoutAnAgentToTalkToSaysUnreachableAndOneWithoutTimeSaysTimedOut()
      throws Exception {
    AgentClient client = new AgentClient(KEY);
    URI nobody = URI.create("http://127.0.0.1:" + AgentFixture.closedPort());

    assertFailure(
        () -> client.probe(nobody, List.of(args("127.0.0.1")), Instant.now().plusSeconds(10)),
        AgentFailure.Kind.UNREACHABLE);
    assertFailure(
        () -> client.probe(nobody, List.of(args("127.0.0.1")), Instant.now().minusSeconds(1)),
        AgentFailure.Kind.TIMED_OUT);
  }

  @SafeVarargs
  private static List<BatchCodec.Entry> probe(
      AgentFixture fixture, Duration within, List<String>... endpoints) {
    try {
      return fixture.probe(within, endpoints);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
