package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.smtpreach.config.OperatorConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The workloads that run the operator's probe agents, in its own namespace, one per source kind: a
 * Deployment for {@code any} and for each zone or node group (pinned by the group's node label), a
 * DaemonSet for EachNode. Their pods get no service-account token and no Secret but the agents'
 * key, run as the probe pods do (non-root, read-only root, no capabilities), and listen only on the
 * agent port, which the chart's NetworkPolicy opens to the operator alone.
 */
final class AgentWorkloads {
  static final String NAME = "smtp-reach-agent";
  static final String AGENT_LABEL = "smtpreach.io/agent";
  static final String KEY_SECRET = "smtp-reach-agent-key";
  static final String KEY_FILE_KEY = PodSigningKey.KEY;
  static final String CONTAINER = "agent";
  static final String LAUNCHER = "/opt/smtp-reach/bin/agent";
  private static final String KEY_DIR = "/etc/smtp-reach/agent";

  /**
   * What the operator last applied to a workload, as a hash: a sweep that finds it unchanged writes
   * nothing (server-side apply of the same object is still a request per sweep).
   */
  static final String APPLIED_HASH_ANNOTATION = "smtpreach.io/applied-hash";

  private static final KubernetesSerialization JSON = new KubernetesSerialization();

  /** Which agent serves a source, and the workload that runs it. */
  record Identity(String id, Map<String, String> nodeSelector, boolean eachNode) {
    String workloadName() {
      return NAME + "-" + id;
    }
  }

  private final OperatorConfig config;

  AgentWorkloads(OperatorConfig config) {
    this.config = config;
  }

  /**
   * The agent of a source: {@code any}, the group of a node label's value, or every node (one
   * DaemonSet for all EachNode sources, whose pod on the source's node answers for it).
   */
  static Identity identity(ProbeSource source) {
    Map<String, String> selector = source.nodeSelector();
    if (selector.isEmpty()) {
      return new Identity("any", Map.of(), false);
    }
    if (selector.keySet().equals(java.util.Set.of(ProbeSource.HOSTNAME_LABEL))) {
      return new Identity("nodes", Map.of(), true);
    }
    String key =
        String.join(
            ",",
            new java.util.TreeMap<>(selector)
                .entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
    return new Identity(ProbePodFactory.shortHash(key, 6), selector, false);
  }

  /** The Deployment or DaemonSet that runs {@code identity}'s agent in {@code namespace}. */
  HasMetadata workload(Identity identity, String namespace) {
    Map<String, String> labels = labels(identity);
    PodTemplateSpec template = template(identity, labels);
    if (identity.eachNode()) {
      return new DaemonSetBuilder()
          .withNewMetadata()
          .withName(identity.workloadName())
          .withNamespace(namespace)
          .withLabels(labels)
          .endMetadata()
          .withNewSpec()
          .withNewSelector()
          .withMatchLabels(Map.of(AGENT_LABEL, identity.id()))
          .endSelector()
          .withTemplate(template)
          .endSpec()
          .build();
    }
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(identity.workloadName())
        .withNamespace(namespace)
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withReplicas(1)
        .withNewSelector()
        .withMatchLabels(Map.of(AGENT_LABEL, identity.id()))
        .endSelector()
        .withTemplate(template)
        .endSpec()
        .build();
  }

  /**
   * Stamps {@code workload} with the hash of what it says now (owner included), for {@link
   * #appliedAsIs}; returns it.
   */
  static HasMetadata stamped(HasMetadata workload) {
    workload.getMetadata().setAnnotations(null);
    String hash = ProbePodFactory.shortHash(JSON.asJson(workload), 12);
    workload.getMetadata().setAnnotations(Map.of(APPLIED_HASH_ANNOTATION, hash));
    return workload;
  }

  /**
   * Whether {@code existing} is what the operator applied from {@code wanted} (both {@link
   * #stamped}): then applying again would change nothing. A workload applied by an older operator,
   * with other settings, or gone, is not.
   */
  static boolean appliedAsIs(HasMetadata wanted, HasMetadata existing) {
    return existing != null
        && existing.getMetadata().getDeletionTimestamp() == null
        && wanted.getKind().equals(existing.getKind())
        && appliedHash(wanted) != null
        && appliedHash(wanted).equals(appliedHash(existing));
  }

  private static String appliedHash(HasMetadata workload) {
    Map<String, String> annotations = workload.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(APPLIED_HASH_ANNOTATION);
  }

  static Map<String, String> labels(Identity identity) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(ProbePodFactory.NAME_LABEL, NAME);
    labels.put(ProbePodFactory.MANAGED_BY_LABEL, ProbePodFactory.MANAGED_BY);
    labels.put(AGENT_LABEL, identity.id());
    return labels;
  }

  private PodTemplateSpec template(Identity identity, Map<String, String> labels) {
    OperatorConfig.Agents agents = config.agents();
    int port = agents.port();
    return new PodTemplateSpecBuilder()
        .withNewMetadata()
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withTerminationGracePeriodSeconds(30L)
        .withNodeSelector(identity.nodeSelector().isEmpty() ? null : identity.nodeSelector())
        .withImagePullSecrets(PodRestrictions.pullSecrets(config))
        .withSecurityContext(PodRestrictions.pod(true))
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(config.probeImage())
        // The image's agent launcher: a resident JVM's flags, not the one-shot probe's.
        .withCommand(LAUNCHER)
        .withArgs(
            "--listen=" + port,
            "--key-file=" + KEY_DIR + "/" + KEY_FILE_KEY,
            "--max-concurrent=" + agents.maxConcurrent(),
            "--max-queued=" + agents.maxQueued())
        .addNewPort()
        .withName("agent")
        .withContainerPort(port)
        .withProtocol("TCP")
        .endPort()
        .withNewReadinessProbe()
        .withNewHttpGet()
        .withPath("/readyz")
        .withPort(new IntOrString(port))
        .endHttpGet()
        .withPeriodSeconds(5)
        .endReadinessProbe()
        .withNewLivenessProbe()
        .withNewHttpGet()
        .withPath("/healthz")
        .withPort(new IntOrString(port))
        .endHttpGet()
        .withPeriodSeconds(20)
        .withTimeoutSeconds(5)
        .withFailureThreshold(3)
        .endLivenessProbe()
        .withResources(
            new ResourceRequirementsBuilder()
                .addToRequests("cpu", new Quantity(agents.cpuRequest()))
                .addToRequests("memory", new Quantity(agents.memoryRequest()))
                .addToLimits("memory", new Quantity(agents.memoryLimit()))
                .build())
        .addNewVolumeMount()
        .withName("key")
        .withMountPath(KEY_DIR)
        .withReadOnly(true)
        .endVolumeMount()
        .withSecurityContext(PodRestrictions.container())
        .endContainer()
        .addNewVolume()
        .withName("key")
        .withNewSecret()
        .withSecretName(KEY_SECRET)
        .withDefaultMode(0440)
        .endSecret()
        .endVolume()
        .endSpec()
        .build();
  }
}
