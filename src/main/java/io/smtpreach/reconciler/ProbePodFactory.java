package io.smtpreach.reconciler;

import static io.smtpreach.reconciler.ProbeSettings.RESULT_FILE;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.smtpreach.api.AuthSpec;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.cli.BatchCommand;
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
 * Builds the short-lived pods that probe endpoints from one source. A pod runs the operator's own
 * image with {@code smtp-reach batch}, probing every endpoint it was given at once, and leaves
 * their results as its termination message. Endpoints whose pods would be alike (namespace, source,
 * scheduling, labels, resources, deadline, the Secret and ConfigMap they read) share one: at 5,000
 * endpoints a pod per endpoint per round was more than a cluster starts (docs/benchmarks.md). Pods
 * are as locked down as a pod can be (non-root, read-only root file system, no capabilities, no
 * service-account token) and take credentials only as Secret references.
 */
public final class ProbePodFactory {
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "smtp-reach";
  public static final String NAME_LABEL = "app.kubernetes.io/name";
  public static final String PROBE_NAME = "smtp-reach-probe";

  /**
   * Prefix of a label per endpoint in the pod, valued with its round: {@code kubectl get pods -l
   * endpoint.smtpreach.io/NAME}. Names longer than a label key allows are shortened.
   */
  public static final String ENDPOINT_LABEL_PREFIX = "endpoint.smtpreach.io/";

  /** {@code NAME=ROUND ...}: the pod's endpoints, in the order of their result lines. */
  public static final String MEMBERS_ANNOTATION = "smtpreach.io/members";

  public static final String SOURCE_ANNOTATION = "smtpreach.io/source";
  public static final String CONTAINER = "probe";

  /** One endpoint's round in a pod. */
  public record Member(SmtpEndpoint endpoint, ProbeSettings settings, String round) {
    public String name() {
      return endpoint.getMetadata().getName();
    }

    public String namespace() {
      return endpoint.getMetadata().getNamespace();
    }
  }

  private final OperatorConfig config;

  public ProbePodFactory(OperatorConfig config) {
    this.config = config;
  }

  /**
   * The pod {@code member} would get from {@code source}, without what is its own (name, owner,
   * arguments): members whose templates are equal ({@link Pod#equals}) can share a pod.
   */
  public Pod template(Member member, ProbeSource source) {
    SmtpEndpoint endpoint = member.endpoint();
    ProbeSpec probe = endpoint.getSpec().probe;
    Map<String, String> labels = new LinkedHashMap<>();
    if (probe != null && probe.labels != null) {
      labels.putAll(probe.labels);
    }
    labels.put(NAME_LABEL, PROBE_NAME);
    labels.put(MANAGED_BY_LABEL, MANAGED_BY);
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
    long deadline = member.settings().probeDeadline(config.probeStartAllowance()).toSeconds();

    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(member.namespace())
        .withLabels(labels)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withActiveDeadlineSeconds(deadline)
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withTerminationGracePeriodSeconds(5L)
        .withNodeSelector(nodeSelector.isEmpty() ? null : nodeSelector)
        .withTolerations(probe == null ? null : probe.tolerations)
        .withImagePullSecrets(PodRestrictions.pullSecrets(config))
        .withSecurityContext(PodRestrictions.pod(false))
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(config.probeImage())
        .withEnv(env(endpoint))
        .withResources(resources(probe))
        .withTerminationMessagePath(ProbeSettings.RESULT_FILE)
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withSecurityContext(PodRestrictions.container())
        .endContainer()
        .endSpec()
        .build();
  }

  /**
   * The pod that probes {@code members} (whose templates are equal) from {@code source}. Its name
   * follows from its members and their rounds, so building it twice names it the same.
   */
  public Pod build(List<Member> members, ProbeSource source) {
    Member first = members.get(0);
    List<String> args = new ArrayList<>(List.of("batch", "--result-file", RESULT_FILE, "--"));
    StringBuilder roster = new StringBuilder();
    Map<String, String> memberLabels = new LinkedHashMap<>();
    List<OwnerReference> owners = new ArrayList<>();
    for (Member m : members) {
      if (!roster.isEmpty()) {
        roster.append(' ');
        args.add(BatchCommand.SEPARATOR);
      }
      roster.append(m.name()).append('=').append(m.round());
      for (String arg : m.settings().arguments()) {
        args.add(literal(arg));
      }
      memberLabels.put(ENDPOINT_LABEL_PREFIX + labelValue(m.name()), m.round());
      owners.add(
          new OwnerReferenceBuilder()
              .withApiVersion(m.endpoint().getApiVersion())
              .withKind(m.endpoint().getKind())
              .withName(m.name())
              .withUid(m.endpoint().getMetadata().getUid())
              .withController(false)
              .withBlockOwnerDeletion(false)
              .build());
    }
    return new PodBuilder(template(first, source))
        .editMetadata()
        .withName(podName(first.namespace(), source.name(), roster.toString()))
        .addToLabels(memberLabels)
        .addToAnnotations(MEMBERS_ANNOTATION, roster.toString())
        .withOwnerReferences(owners)
        .endMetadata()
        .editSpec()
        .editFirstContainer()
        .withArgs(args)
        .endContainer()
        .endSpec()
        .build();
  }

  /**
   * {@code arg} as the kubelet passes it on: it expands {@code $(VAR)} in args from the container's
   * environment, so a spec string {@code $(SMTP_REACH_AUTH_PASSWORD)} would become the password.
   * {@code $$} is its escape for a literal {@code $}.
   */
  static String literal(String arg) {
    return arg.replace("$", "$$");
  }

  /**
   * Credentials and the CA bundle travel as references only; their values never touch us. The probe
   * is told where the username comes from, to name it by that in results.
   */
  private static List<EnvVar> env(SmtpEndpoint endpoint) {
    List<EnvVar> env = new ArrayList<>();
    AuthSpec auth = endpoint.getSpec().auth;
    if (auth != null && auth.secretRef != null) {
      String secret = auth.secretRef.name;
      String usernameKey =
          auth.secretRef.usernameKey == null ? "username" : auth.secretRef.usernameKey;
      env.add(secretEnv("SMTP_REACH_AUTH_USERNAME", secret, usernameKey));
      // The key may be any key of any Secret in the namespace: results name it, not its value.
      env.add(
          new EnvVarBuilder()
              .withName("SMTP_REACH_AUTH_USERNAME_LABEL")
              .withValue("key " + usernameKey + " of Secret " + secret)
              .build());
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

  /** {@code smtp-reach-probe-<hash>} of the pod's namespace, source and members with rounds. */
  static String podName(String namespace, String source, String members) {
    return "smtp-reach-probe-" + shortHash(namespace + "/" + source + "/" + members, 6);
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
