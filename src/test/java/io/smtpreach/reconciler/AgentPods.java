package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.smtpreach.agent.AgentClient;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.probe.Reason;
import io.smtpreach.status.SourceOutcome;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** An agent's pod and key Secret exactly as the operator's workloads have them, for benchmarks. */
public final class AgentPods {
  private AgentPods() {}

  /** The pod the operator's Deployment for {@code node}'s agent would run, as a bare pod. */
  public static Pod pod(OperatorConfig config, String namespace, String node) {
    return pod(config, namespace, node, "agent-" + node);
  }

  /** The same, named {@code name}: several agents on one node stand for several sources. */
  public static Pod pod(OperatorConfig config, String namespace, String node, String name) {
    AgentWorkloads.Identity id =
        AgentWorkloads.identity(
            new ProbeSource(node, Map.of("kubernetes.io/hostname-bench", node)));
    Deployment d = (Deployment) new AgentWorkloads(config).workload(id, namespace);
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .withLabels(d.getSpec().getTemplate().getMetadata().getLabels())
        .endMetadata()
        .withSpec(d.getSpec().getTemplate().getSpec())
        .editSpec()
        .withNodeSelector(null)
        .withNodeName(node)
        .endSpec()
        .build();
  }

  /** The agents' key Secret with {@code key} (text, at least 32 bytes). */
  public static Secret keySecret(String namespace, String key) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName(AgentWorkloads.KEY_SECRET)
        .withNamespace(namespace)
        .endMetadata()
        .withData(
            Map.of(
                AgentWorkloads.KEY_FILE_KEY,
                Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8))))
        .build();
  }

  /**
   * One round of each member from each source, sent as the operator sends them (its {@link
   * AgentDispatcher}: asks that wait share a call), with {@code client}; returns each call's time
   * in ms once every round has its outcome, and fails unless every outcome is a report whose first
   * result is {@code expected}.
   */
  public static List<Long> rounds(
      AgentClient client,
      Map<ProbeSource, URI> agents,
      List<ProbePodFactory.Member> members,
      int maxCalls,
      Reason expected) {
    List<Long> callMillis = Collections.synchronizedList(new ArrayList<>());
    AgentDispatcher.Transport timed =
        (uri, arguments, deadline) -> {
          long start = System.nanoTime();
          try {
            return client.probe(uri, arguments, deadline);
          } finally {
            callMillis.add((System.nanoTime() - start) / 1_000_000);
          }
        };
    // Each outcome wakes its endpoint once: the count of wakes says when every round has ended.
    CountDownLatch ended = new CountDownLatch(members.size() * agents.size());
    try (AgentDispatcher dispatcher =
        new AgentDispatcher(
            source ->
                Optional.of(
                    new AgentDispatcher.Target(agents.get(source), "agent-" + source.name())),
            timed,
            maxCalls,
            Duration.ofSeconds(30),
            id -> ended.countDown())) {
      Instant deadline = Instant.now().plus(Duration.ofMinutes(10));
      for (ProbePodFactory.Member m : members) {
        for (ProbeSource source : agents.keySet()) {
          dispatcher.ask(m, source, Instant.now(), deadline);
        }
      }
      await("every round ended")
          .atMost(Duration.ofMinutes(10))
          .pollDelay(Duration.ZERO)
          .until(() -> ended.await(1, TimeUnit.SECONDS));
      for (ProbePodFactory.Member m : members) {
        for (ProbeSource source : agents.keySet()) {
          SourceOutcome outcome =
              dispatcher.outcome(m.namespace(), m.name(), m.round(), source.name()).orElseThrow();
          assertThat(outcome.report()).as(String.valueOf(outcome.message())).isNotNull();
          assertThat(outcome.report().results().get(0).reason()).isEqualTo(expected);
        }
      }
    }
    return new ArrayList<>(callMillis);
  }
}
