package io.smtpreach.agent;

import static io.smtpreach.agent.AgentFixture.args;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.Reason;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real Postfix, on every port and TLS mode, an agent returns what a probe pod returns. An
 * agent takes no CA file, so the certificate is not verified here (its facts still are).
 */
@ExtendWith(PostfixPeer.class)
class AgentPostfixTest {
  @TempDir Path tmp;

  @Test
  void everyPortAndModeOfARealServerGivesTheSameResultAsAProbePod(PostfixPeer.Instance peer)
      throws Exception {
    List<List<String>> endpoints =
        List.of(
            args(
                "--port=587:starttls",
                "--port=465:implicit",
                "--port=25:auto",
                "--port=2525:starttls",
                "--insecure",
                "--",
                PostfixPeer.HOST),
            args("--port=587:none:blocked", "--server-name=smtp.test", "--", PostfixPeer.HOST),
            args("--port=465:starttls", "--timeout=3s", "--", PostfixPeer.HOST));
    try (AgentFixture fixture = AgentFixture.start()) {
      List<BatchCodec.Entry> fromAgent =
          fixture.client.probe(fixture.uri(), endpoints, Instant.now().plusSeconds(60));
      List<BatchCodec.Entry> fromPod = BatchRun.batch(tmp, endpoints);

      assertThat(BatchRun.comparable(fromAgent))
          .containsExactlyElementsOf(BatchRun.comparable(fromPod));
      assertThat(fromAgent.get(0).report().results())
          .hasSize(4)
          .allSatisfy(r -> assertThat(r.reason()).isEqualTo(Reason.OK))
          .allSatisfy(r -> assertThat(r.tls()).isNotNull());
    }
  }
}
