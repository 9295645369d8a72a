package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.args;
import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.Reason;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Given an agent and SMTP servers on loopback, when the operator's client asks it to probe, then
 * each endpoint gets the result line a probe pod would give it, in order.
 */
class AgentProbeTest {
  @Test
  void eachEndpointGetsItsOwnResultInOrderAndABadOneFailsOnlyItself() throws Exception {
    int closed = AgentFixture.closedPort();
    try (AgentFixture fixture = AgentFixture.start();
        FaultServer smtp = FaultServer.start(FaultServer.smtp(plain()))) {
      List<BatchCodec.Entry> entries =
          fixture.probe(
              Duration.ofSeconds(30),
              args("--port=" + smtp.port() + ":none", "--timeout=5s", "--", "127.0.0.1"),
              args("127.0.0.1", "--bogus"),
              args("--port=" + closed + ":starttls:blocked", "--", "127.0.0.1"));

      assertThat(entries).hasSize(3);
      assertThat(entries.get(0).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.reason()).isEqualTo(Reason.OK))
          .satisfies(r -> assertThat(r.greeting()).contains("fault.test"));
      assertThat(entries.get(1).report()).isNull();
      assertThat(entries.get(1).error()).contains("--bogus");
      assertThat(entries.get(2).report().results())
          .singleElement()
          .satisfies(r -> assertThat(r.reason()).isEqualTo(Reason.CONNECTION_REFUSED));
    }
  }

  @Test
  void theAgentIsHealthyAndReadyWhileServingAndAnswersNothingElse() throws Exception {
    try (AgentFixture fixture = AgentFixture.start()) {
      assertThat(fixture.get(ProbeAgent.HEALTH_PATH).statusCode()).isEqualTo(200);
      assertThat(fixture.get(ProbeAgent.READY_PATH).statusCode()).isEqualTo(200);
      assertThat(fixture.get("/").statusCode()).isEqualTo(404);
      assertThat(fixture.get("/v1/probe/../../etc/passwd").statusCode()).isIn(400, 404);
      assertThat(fixture.get(ProbeAgent.PROBE_PATH).statusCode()).isEqualTo(405);
    }
  }

  @Test
  void anAgentThatStoppedIsNotReadyAndItsClientSaysUnreachable() throws Exception {
    AgentFixture fixture = AgentFixture.start();
    fixture.close();

    assertThat(fixture.agent.serving()).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> fixture.probe(Duration.ofSeconds(5), args("127.0.0.1")))
        .isInstanceOfSatisfying(
            AgentFailure.class, f -> assertThat(f.kind()).isEqualTo(AgentFailure.Kind.UNREACHABLE));
  }
}
