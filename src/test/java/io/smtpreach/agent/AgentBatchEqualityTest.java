package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.args;
import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.probe.BatchCodec;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * For the same arguments, an agent returns what a probe pod returns: the same reports, the same
 * usage errors, in the same words (start instants and timings aside).
 */
class AgentBatchEqualityTest {
  @TempDir Path tmp;

  @Test
  void theAgentAnswersWhatAProbePodWritesForTheSameArguments() throws Exception {
    try (AgentFixture fixture = AgentFixture.start();
        FaultServer smtp = FaultServer.start(FaultServer.smtp(plain()));
        FaultServer esmtp =
            FaultServer.start(
                FaultServer.smtp(
                    plain()
                        .greeting("220 other.test ESMTP hi")
                        .capabilities("SIZE 1000", "AUTH PLAIN")))) {
      String quietDns = AgentFixture.quietDns();
      List<List<String>> endpoints =
          List.of(
              args("--port=" + smtp.port() + ":none", "--ehlo=probe.test", "--", "127.0.0.1"),
              args(
                  "--port=" + esmtp.port() + ":starttls",
                  "--port=" + esmtp.port() + ":none:any",
                  "--",
                  "127.0.0.1"),
              args("--port=" + AgentFixture.closedPort() + ":implicit:blocked", "--", "127.0.0.1"),
              args("--mx", "example.test", quietDns, "--dns-timeout=1s", "--timeout=3s"),
              args("127.0.0.1", "--bogus"),
              args("--ehlo=-p 1", "--", "127.0.0.1"),
              args("--port=99999", "--", "127.0.0.1"));

      List<BatchCodec.Entry> fromAgent =
          fixture.client.probe(fixture.uri(), endpoints, Instant.now().plusSeconds(60));
      List<BatchCodec.Entry> fromPod = BatchRun.batch(tmp, endpoints);

      assertThat(BatchRun.comparable(fromAgent))
          .hasSize(endpoints.size())
          .containsExactlyElementsOf(BatchRun.comparable(fromPod));
      assertThat(fromAgent.get(0).report().results().get(0).greeting()).contains("fault.test");
    }
  }
}
