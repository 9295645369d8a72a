package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.smtpreach.api.Placement;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.status.StatusAggregator;
import java.util.Collection;
import java.util.Comparator;
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
    Placement placement = placement(probe);
    if (placement == Placement.Any) {
      return List.of(new ProbeSource(StatusAggregator.ANY_SOURCE, Map.of()));
    }
    return fromNodes(probe, nodes.stream().filter(ProbeSource::isReady).toList());
  }

  /**
   * The sources whose nodes exist but none is Ready and schedulable now (cordoned, NotReady): their
   * round did not run, so they keep what is known of them. A source with no node at all is gone.
   */
  public static List<String> unavailable(ProbeSpec probe, Collection<Node> nodes) {
    if (placement(probe) == Placement.Any) {
      return List.of();
    }
    List<String> eligible = of(probe, nodes).stream().map(ProbeSource::name).toList();
    return fromNodes(probe, List.copyOf(nodes)).stream()
        .map(ProbeSource::name)
        .filter(n -> !eligible.contains(n))
        .toList();
  }

  private static Placement placement(ProbeSpec probe) {
    return probe == null || probe.placement == null ? Placement.Any : probe.placement;
  }

  /** One source per node group or node among {@code nodes} that match the selector, by name. */
  private static List<ProbeSource> fromNodes(ProbeSpec probe, List<Node> nodes) {
    Map<String, String> selector = probe.nodeSelector == null ? Map.of() : probe.nodeSelector;
    List<Node> matching = nodes.stream().filter(n -> matches(n, selector)).toList();
    if (probe.placement == Placement.PerNodeGroup) {
      return matching.stream()
          .map(n -> labels(n).get(probe.nodeLabel))
          .filter(Objects::nonNull)
          .distinct()
          .sorted()
          .map(v -> new ProbeSource(v, Map.of(probe.nodeLabel, v)))
          .toList();
    }
    return matching.stream()
        .map(
            n ->
                new ProbeSource(
                    n.getMetadata().getName(),
                    Map.of(
                        HOSTNAME_LABEL,
                        labels(n).getOrDefault(HOSTNAME_LABEL, n.getMetadata().getName()))))
        .sorted(Comparator.comparing(ProbeSource::name))
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
