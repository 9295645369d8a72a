package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.smtpreach.config.OperatorConfig;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/** An agent's pod and key Secret exactly as the operator's workloads have them, for benchmarks. */
public final class AgentPods {
  private AgentPods() {}

  /** The pod the operator's Deployment for {@code node}'s agent would run, as a bare pod. */
  public static Pod pod(OperatorConfig config, String namespace, String node) {
    AgentWorkloads.Identity id =
        AgentWorkloads.identity(
            new ProbeSource(node, Map.of("kubernetes.io/hostname-bench", node)));
    Deployment d = (Deployment) new AgentWorkloads(config).workload(id, namespace);
    return new PodBuilder()
        .withNewMetadata()
        .withName("agent-" + node)
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
}
