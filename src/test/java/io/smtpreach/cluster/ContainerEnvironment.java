package io.smtpreach.cluster;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A container's environment as the kubelet builds it: {@code value} (with {@code $(VAR)} references
 * to earlier variables), {@code secretKeyRef}, {@code configMapKeyRef}, and {@code fieldRef} for
 * the pod's name, namespace, uid, node, service account and IPs. A missing non-optional Secret,
 * ConfigMap or key is an error, as it is for the kubelet (CreateContainerConfigError). {@code
 * envFrom} and {@code resourceFieldRef} are not supported.
 */
final class ContainerEnvironment {
  private ContainerEnvironment() {}

  static Map<String, String> resolve(
      KubernetesClient client, Pod pod, Container container, String nodeAddress) {
    String ns = pod.getMetadata().getNamespace();
    Map<String, String> env = new LinkedHashMap<>();
    List<EnvVar> vars = container.getEnv() == null ? List.of() : container.getEnv();
    for (EnvVar v : vars) {
      EnvVarSource from = v.getValueFrom();
      String value;
      if (from == null) {
        value = expand(v.getValue() == null ? "" : v.getValue(), env);
      } else if (from.getSecretKeyRef() != null) {
        var ref = from.getSecretKeyRef();
        Secret s = client.secrets().inNamespace(ns).withName(ref.getName()).get();
        String data = s == null || s.getData() == null ? null : s.getData().get(ref.getKey());
        value =
            data == null
                ? missing(ref.getOptional(), "secret " + ref.getName() + " key " + ref.getKey())
                : new String(Base64.getDecoder().decode(data), StandardCharsets.UTF_8);
      } else if (from.getConfigMapKeyRef() != null) {
        var ref = from.getConfigMapKeyRef();
        ConfigMap c = client.configMaps().inNamespace(ns).withName(ref.getName()).get();
        String data = c == null || c.getData() == null ? null : c.getData().get(ref.getKey());
        value =
            data == null
                ? missing(ref.getOptional(), "configmap " + ref.getName() + " key " + ref.getKey())
                : data;
      } else if (from.getFieldRef() != null) {
        value = field(pod, from.getFieldRef().getFieldPath(), nodeAddress);
      } else {
        throw new IllegalArgumentException("env " + v.getName() + ": unsupported valueFrom");
      }
      if (value != null) {
        env.put(v.getName(), value);
      }
    }
    return env;
  }

  private static String missing(Boolean optional, String what) {
    if (Boolean.TRUE.equals(optional)) {
      return null;
    }
    throw new IllegalArgumentException(what + " not found");
  }

  private static String field(Pod pod, String path, String nodeAddress) {
    var meta = pod.getMetadata();
    return switch (path) {
      case "metadata.name" -> meta.getName();
      case "metadata.namespace" -> meta.getNamespace();
      case "metadata.uid" -> meta.getUid();
      case "spec.nodeName" -> pod.getSpec().getNodeName();
      case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
      case "status.podIP", "status.hostIP" -> nodeAddress;
      default -> throw new IllegalArgumentException("unsupported fieldRef " + path);
    };
  }

  /** Expands {@code $(VAR)} in each element as Kubernetes does; {@code $$} is a literal $. */
  static List<String> expand(List<String> words, Map<String, String> env) {
    List<String> out = new ArrayList<>(words.size());
    for (String w : words) {
      out.add(expand(w, env));
    }
    return out;
  }

  static String expand(String s, Map<String, String> env) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '$' && i + 1 < s.length() && s.charAt(i + 1) == '$') {
        out.append('$');
        i += 2;
      } else if (c == '$' && i + 1 < s.length() && s.charAt(i + 1) == '(') {
        int end = s.indexOf(')', i + 2);
        String name = end < 0 ? null : s.substring(i + 2, end);
        if (name != null && env.containsKey(name)) {
          out.append(env.get(name));
          i = end + 1;
        } else {
          out.append(c); // unresolvable references stay as they are
          i++;
        }
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
