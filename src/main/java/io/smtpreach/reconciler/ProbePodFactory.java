package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.smtpreach.api.AuthSpec;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.config.OperatorConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the short-lived pod that probes an endpoint from one source. It runs the operator's own
 * image with the {@code smtp-reach probe} command, as locked down as a pod can be (non-root,
 * read-only root file system, no capabilities, no service-account token), takes credentials only as
 * Secret references, and leaves its result as its termination message.
 */
public final class ProbePodFactory {
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "smtp-reach";
  public static final String NAME_LABEL = "app.kubernetes.io/name";
  public static final String ENDPOINT_LABEL = "smtpreach.io/endpoint";
  public static final String ROUND_LABEL = "smtpreach.io/round";
  public static final String SOURCE_ANNOTATION = "smtpreach.io/source";
  public static final String CONTAINER = "probe";

  /** The probe runs as this user: any non-root id works, the image's files are world-readable. */
  static final long PROBE_UID = 65532;

  private final OperatorConfig config;

  public ProbePodFactory(OperatorConfig config) {
    this.config = config;
  }

  /**
   * The pod of {@code source} in round {@code round}; its name is the same each time it is built.
   */
  public Pod build(
      SmtpEndpoint endpoint, ProbeSettings settings, ProbeSource source, String round, int index) {
    String namespace = endpoint.getMetadata().getNamespace();
    ProbeSpec probe = endpoint.getSpec().probe;
    Map<String, String> labels = new LinkedHashMap<>();
    if (probe != null && probe.labels != null) {
      labels.putAll(probe.labels);
    }
    labels.put(NAME_LABEL, "smtp-reach-probe");
    labels.put(MANAGED_BY_LABEL, MANAGED_BY);
    labels.put(ENDPOINT_LABEL, labelValue(endpoint.getMetadata().getName()));
    labels.put(ROUND_LABEL, round);
    Map<String, String> annotations = new LinkedHashMap<>();
    if (probe != null && probe.annotations != null) {
      annotations.putAll(probe.annotations);
    }
    annotations.put(SOURCE_ANNOTATION, source.name());
    Map<String, String> nodeSelector = new LinkedHashMap<>();
    if (probe != null && probe.nodeSelector != null) {
      nodeSelector.putAll(probe.nodeSelector);
    }
    nodeSelector.putAll(source.nodeSelector());
    long deadline = settings.probeDeadline(config.probeStartAllowance()).toSeconds();

    return new PodBuilder()
        .withNewMetadata()
        .withName(podName(endpoint.getMetadata().getName(), round, index))
        .withNamespace(namespace)
        .withLabels(labels)
        .withAnnotations(annotations)
        .addNewOwnerReference()
        .withApiVersion(endpoint.getApiVersion())
        .withKind(endpoint.getKind())
        .withName(endpoint.getMetadata().getName())
        .withUid(endpoint.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(false)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withActiveDeadlineSeconds(deadline)
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withTerminationGracePeriodSeconds(5L)
        .withNodeSelector(nodeSelector.isEmpty() ? null : nodeSelector)
        .withTolerations(probe == null ? null : probe.tolerations)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(PROBE_UID)
        .withRunAsGroup(PROBE_UID)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(config.probeImage())
        .withArgs(settings.arguments())
        .withEnv(env(endpoint))
        .withResources(resources(probe))
        .withTerminationMessagePath(ProbeSettings.RESULT_FILE)
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withNewSecurityContext()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withPrivileged(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .endSecurityContext()
        .endContainer()
        .endSpec()
        .build();
  }

  /** Credentials and the CA bundle travel as references only; their values never touch us. */
  private static List<EnvVar> env(SmtpEndpoint endpoint) {
    List<EnvVar> env = new ArrayList<>();
    AuthSpec auth = endpoint.getSpec().auth;
    if (auth != null && auth.secretRef != null) {
      String secret = auth.secretRef.name;
      env.add(
          secretEnv(
              "SMTP_REACH_AUTH_USERNAME",
              secret,
              auth.secretRef.usernameKey == null ? "username" : auth.secretRef.usernameKey));
      env.add(
          secretEnv(
              "SMTP_REACH_AUTH_PASSWORD",
              secret,
              auth.secretRef.passwordKey == null ? "password" : auth.secretRef.passwordKey));
    }
    CaBundleSource ca = endpoint.getSpec().tls == null ? null : endpoint.getSpec().tls.caBundle;
    if (ca != null && (ca.configMapKeyRef != null || ca.secretKeyRef != null)) {
      env.add(
          new EnvVarBuilder()
              .withName("SMTP_REACH_CA_BUNDLE")
              .withNewValueFrom()
              .withConfigMapKeyRef(ca.configMapKeyRef)
              .withSecretKeyRef(ca.secretKeyRef)
              .endValueFrom()
              .build());
    }
    return env;
  }

  private static EnvVar secretEnv(String name, String secret, String key) {
    return new EnvVarBuilder()
        .withName(name)
        .withNewValueFrom()
        .withNewSecretKeyRef()
        .withName(secret)
        .withKey(key)
        .endSecretKeyRef()
        .endValueFrom()
        .build();
  }

  private ResourceRequirements resources(ProbeSpec probe) {
    if (probe != null && probe.resources != null) {
      return probe.resources;
    }
    OperatorConfig.ProbeResources r = config.probeResources();
    return new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity(r.cpuRequest()))
        .addToRequests("memory", new Quantity(r.memoryRequest()))
        .addToLimits("memory", new Quantity(r.memoryLimit()))
        .build();
  }

  /** {@code <endpoint>-<round>-<index>}, the endpoint's name shortened to keep it a DNS label. */
  static String podName(String endpoint, String round, int index) {
    String suffix = "-" + round + "-" + index;
    String base =
        endpoint.length() + suffix.length() <= 63
            ? endpoint
            : shorten(endpoint, 63 - suffix.length());
    return base + suffix;
  }

  /** A label value (at most 63 characters) that still says which endpoint it is. */
  static String labelValue(String name) {
    return name.length() <= 63 ? name : shorten(name, 63);
  }

  private static String shorten(String name, int max) {
    String hash = hash(name);
    String head = name.substring(0, max - hash.length() - 1).replaceAll("[-.]+$", "");
    return head + "-" + hash;
  }

  private static String hash(String s) {
    return shortHash(s, 4);
  }

  /** The first {@code bytes} bytes of the SHA-256 of {@code s}, in hex: short, stable names. */
  static String shortHash(String s, int bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
