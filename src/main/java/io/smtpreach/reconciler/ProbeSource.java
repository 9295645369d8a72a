package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.smtpreach.api.Placement;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.status.StatusAggregator;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where one probe pod of a round runs: a name for status, Events and metrics (a zone, a node pool,
 * a node, or {@code any}) and the node selector that puts the pod there.
 */
public record ProbeSource(String name, Map<String, String> nodeSelector) {
  static final String HOSTNAME_LABEL = "kubernetes.io/hostname";

  /**
   * The sources of an endpoint's next round, sorted by name: one for {@code Any}, one per value of
   * the node label among Ready schedulable nodes for {@code PerNodeGroup}, one per such node for
   * {@code EachNode}. Empty when no node fits.
   */
  public static List<ProbeSource> of(ProbeSpec probe, Collection<Node> nodes) {
    Placement placement =
        probe == null || probe.placement == null ? Placement.Any : probe.placement;
    if (placement == Placement.Any) {
      return List.of(new ProbeSource(StatusAggregator.ANY_SOURCE, Map.of()));
    }
    Map<String, String> selector = probe.nodeSelector == null ? Map.of() : probe.nodeSelector;
    List<Node> eligible =
        nodes.stream().filter(ProbeSource::isReady).filter(n -> matches(n, selector)).toList();
    if (placement == Placement.PerNodeGroup) {
      return eligible.stream()
          .map(n -> labels(n).get(probe.nodeLabel))
          .filter(Objects::nonNull)
          .distinct()
          .sorted()
          .map(v -> new ProbeSource(v, Map.of(probe.nodeLabel, v)))
          .toList();
    }
    return eligible.stream()
        .map(
            n ->
                new ProbeSource(
                    n.getMetadata().getName(),
                    Map.of(
                        HOSTNAME_LABEL,
                        labels(n).getOrDefault(HOSTNAME_LABEL, n.getMetadata().getName()))))
        .sorted(java.util.Comparator.comparing(ProbeSource::name))
        .toList();
  }

  static boolean isReady(Node node) {
    if (node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable())) {
      return false;
    }
    List<NodeCondition> conditions =
        node.getStatus() == null ? List.of() : node.getStatus().getConditions();
    return conditions != null
        && conditions.stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static boolean matches(Node node, Map<String, String> selector) {
    Map<String, String> labels = labels(node);
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  private static Map<String, String> labels(Node node) {
    Map<String, String> labels = node.getMetadata().getLabels();
    return labels == null ? Map.of() : labels;
  }
}
