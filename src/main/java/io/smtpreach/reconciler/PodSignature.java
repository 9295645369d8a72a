package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.smtpreach.api.SmtpEndpoint;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs the probe pods the operator creates and checks the signature when it reads them. Whoever
 * may create pods in a namespace can give one the probe pods' labels and annotations; without the
 * key they cannot sign it, so a pod the operator did not build, or one changed since, is never read
 * as a result. The signature covers what decides a result (name, endpoints and rounds, source,
 * owners, node selector, and the whole container: image, arguments, environment, mounts), not what
 * the API server adds.
 */
public final class PodSignature {
  public static final String ANNOTATION = "smtpreach.io/signature";
  private static final String ALGORITHM = "HmacSHA256";

  private final SecretKeySpec key;

  PodSignature(byte[] key) {
    if (key.length < 16) {
      throw new IllegalArgumentException("the pod signing key must have at least 16 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), ALGORITHM);
  }

  /** The pod with its signature annotation. */
  public Pod sign(Pod pod) {
    return new PodBuilder(pod)
        .editMetadata()
        .addToAnnotations(ANNOTATION, mac(pod))
        .endMetadata()
        .build();
  }

  /** Whether the operator built this pod, unchanged, and for this incarnation of the endpoint. */
  public boolean trusted(Pod pod, SmtpEndpoint endpoint) {
    String uid = endpoint.getMetadata().getUid();
    List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
    return uid != null
        && owners != null
        && owners.stream().anyMatch(o -> uid.equals(o.getUid()))
        && authentic(pod);
  }

  /** Whether an operator with this key built this pod, unchanged, whichever endpoints it is for. */
  public boolean authentic(Pod pod) {
    if (pod.getMetadata().getAnnotations() == null) {
      return false;
    }
    String claimed = pod.getMetadata().getAnnotations().get(ANNOTATION);
    return claimed != null
        && MessageDigest.isEqual(
            claimed.getBytes(StandardCharsets.US_ASCII),
            mac(pod).getBytes(StandardCharsets.US_ASCII));
  }

  private String mac(Pod pod) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      byte[] digest = mac.doFinal(signedText(pod).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The fields that decide what a pod's result means, one per line, each length-prefixed so that no
   * value can pose as another field.
   */
  private static String signedText(Pod pod) {
    StringBuilder text = new StringBuilder();
    var meta = pod.getMetadata();
    Map<String, String> annotations =
        meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
    field(text, "namespace", meta.getNamespace());
    field(text, "name", meta.getName());
    field(text, "members", annotations.get(ProbePodFactory.MEMBERS_ANNOTATION));
    field(text, "source", annotations.get(ProbePodFactory.SOURCE_ANNOTATION));
    if (meta.getOwnerReferences() != null) {
      meta.getOwnerReferences().forEach(o -> field(text, "owner", o.getUid()));
    }
    PodSpec spec = pod.getSpec();
    if (spec == null) {
      return text.toString();
    }
    field(text, "nodeSelector", String.valueOf(sorted(spec.getNodeSelector())));
    field(text, "deadline", String.valueOf(spec.getActiveDeadlineSeconds()));
    field(text, "token", String.valueOf(spec.getAutomountServiceAccountToken()));
    field(text, "initContainers", String.valueOf(size(spec.getInitContainers())));
    field(text, "volumes", String.valueOf(size(spec.getVolumes())));
    field(text, "containers", String.valueOf(size(spec.getContainers())));
    for (Container c : Objects.requireNonNullElse(spec.getContainers(), List.<Container>of())) {
      field(text, "image", c.getImage());
      field(text, "command", String.valueOf(c.getCommand()));
      for (String arg : Objects.requireNonNullElse(c.getArgs(), List.<String>of())) {
        field(text, "arg", arg);
      }
      for (EnvVar env : Objects.requireNonNullElse(c.getEnv(), List.<EnvVar>of())) {
        field(text, "env", env.getName());
        field(text, "value", env.getValue());
        var from = env.getValueFrom();
        if (from != null && from.getSecretKeyRef() != null) {
          field(text, "secret", from.getSecretKeyRef().getName());
          field(text, "key", from.getSecretKeyRef().getKey());
        }
        if (from != null && from.getConfigMapKeyRef() != null) {
          field(text, "configMap", from.getConfigMapKeyRef().getName());
          field(text, "key", from.getConfigMapKeyRef().getKey());
        }
      }
      field(text, "mounts", String.valueOf(size(c.getVolumeMounts())));
      field(text, "terminationMessagePath", c.getTerminationMessagePath());
      field(text, "terminationMessagePolicy", c.getTerminationMessagePolicy());
    }
    return text.toString();
  }

  private static void field(StringBuilder text, String name, String value) {
    String v = value == null ? "" : value;
    text.append(name).append(' ').append(v.length()).append(':').append(v).append('\n');
  }

  private static Map<String, String> sorted(Map<String, String> map) {
    return map == null ? Map.of() : new TreeMap<>(map);
  }

  private static int size(List<?> list) {
    return list == null ? 0 : list.size();
  }
}
