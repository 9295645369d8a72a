package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.config.OperatorConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bounds a cluster admin sets on what endpoint authors may ask of probe pods: resources (a
 * memory limit is required), the taints they may tolerate, the node labels they may select by, and
 * labels reserved for the admin's own policies (a label an egress NetworkPolicy allows by, say). A
 * key pattern is a key, or a prefix ending in {@code *}; {@code *} allows any.
 */
public record ProbePolicy(
    String maxCpu,
    String maxMemory,
    List<String> allowedTolerationKeys,
    List<String> allowedNodeSelectorKeys,
    List<String> reservedLabelKeys) {

  /** The condition reason of a spec outside the bounds. */
  public static final String NOT_ALLOWED = "ProbeNotAllowed";

  static ProbePolicy of(OperatorConfig.ProbePolicy config) {
    return new ProbePolicy(
        config.maxCpu(),
        config.maxMemory(),
        config.allowedTolerationKeys(),
        config.allowedNodeSelectorKeys(),
        config.reservedLabelKeys().orElse(List.of()));
  }

  /** What in the spec is outside the bounds, as a message for the condition; empty if nothing. */
  public Optional<String> violation(ProbeSpec probe) {
    if (probe == null) {
      return Optional.empty();
    }
    return resources(probe.resources)
        .or(() -> tolerations(probe.tolerations))
        .or(() -> nodeSelection(probe))
        .or(() -> labels(probe.labels));
  }

  private Optional<String> resources(ResourceRequirements r) {
    if (r == null) {
      return Optional.empty(); // the operator's own defaults apply
    }
    Map<String, Quantity> limits = r.getLimits() == null ? Map.of() : r.getLimits();
    Map<String, Quantity> requests = r.getRequests() == null ? Map.of() : r.getRequests();
    if (!limits.containsKey("memory")) {
      return Optional.of("probe.resources must set limits.memory (at most " + maxMemory + ")");
    }
    return over("limits.memory", limits.get("memory"), maxMemory)
        .or(() -> over("requests.memory", requests.get("memory"), maxMemory))
        .or(() -> over("limits.cpu", limits.get("cpu"), maxCpu))
        .or(() -> over("requests.cpu", requests.get("cpu"), maxCpu));
  }

  private static Optional<String> over(String field, Quantity asked, String max) {
    if (asked == null
        || Quantity.getAmountInBytes(asked).compareTo(Quantity.getAmountInBytes(new Quantity(max)))
            <= 0) {
      return Optional.empty();
    }
    return Optional.of(
        "probe.resources." + field + " " + asked + " is over the operator's maximum of " + max);
  }

  private Optional<String> tolerations(List<Toleration> tolerations) {
    for (Toleration t : tolerations == null ? List.<Toleration>of() : tolerations) {
      if (t.getKey() == null || t.getKey().isEmpty()) {
        if (!allowedTolerationKeys.contains("*")) {
          return Optional.of(
              "probe.tolerations: a toleration without a key (all taints) is not allowed by the"
                  + " operator");
        }
      } else if (!matches(allowedTolerationKeys, t.getKey())) {
        return Optional.of(
            "probe.tolerations: key " + shown(t.getKey()) + " is not allowed by the operator");
      }
    }
    return Optional.empty();
  }

  private Optional<String> nodeSelection(ProbeSpec probe) {
    if (probe.nodeLabel != null && !matches(allowedNodeSelectorKeys, probe.nodeLabel)) {
      return Optional.of(
          "probe.nodeLabel: " + shown(probe.nodeLabel) + " is not allowed by the operator");
    }
    for (String key :
        probe.nodeSelector == null ? List.<String>of() : probe.nodeSelector.keySet()) {
      if (!matches(allowedNodeSelectorKeys, key)) {
        return Optional.of(
            "probe.nodeSelector: key " + shown(key) + " is not allowed by the operator");
      }
    }
    return Optional.empty();
  }

  private Optional<String> labels(Map<String, String> labels) {
    for (String key : labels == null ? List.<String>of() : labels.keySet()) {
      if (matches(reservedLabelKeys, key)) {
        return Optional.of("probe.labels: " + shown(key) + " is reserved by the operator");
      }
    }
    return Optional.empty();
  }

  private static boolean matches(List<String> patterns, String key) {
    return patterns.stream()
        .anyMatch(
            p -> p.endsWith("*") ? key.startsWith(p.substring(0, p.length() - 1)) : p.equals(key));
  }

  /** A key from the spec, bounded: it is the author's text. */
  private static String shown(String key) {
    return key.length() <= 80 ? key : key.substring(0, 79) + "…";
  }
}
