package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.smtpreach.api.Placement;
import io.smtpreach.api.ProbeSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which sources a round runs from, and which exist but cannot run now. */
class ProbeSourceTest {
  private static final String ZONE = "topology.kubernetes.io/zone";

  @Test
  void aZoneWhoseNodesAreAllCordonedIsASourceThatCannotRunNotAGoneOne() {
    ProbeSpec probe = perZone();
    List<Node> nodes = List.of(node("a1", "zone-a", true, false), node("b1", "zone-b", true, true));

    assertThat(ProbeSource.of(probe, nodes))
        .extracting(ProbeSource::name)
        .containsExactly("zone-a");
    assertThat(ProbeSource.unavailable(probe, nodes)).containsExactly("zone-b");
  }

  @Test
  void everyNodeCordonedLeavesEveryZoneUnavailableAndNoneGone() {
    ProbeSpec probe = perZone();
    List<Node> nodes =
        List.of(node("a1", "zone-a", true, true), node("b1", "zone-b", false, false));

    assertThat(ProbeSource.of(probe, nodes)).isEmpty();
    assertThat(ProbeSource.unavailable(probe, nodes)).containsExactly("zone-a", "zone-b");
  }

  @Test
  void eachNodeCountsANotReadyNodeAsUnavailableAndADeletedOneAsGone() {
    ProbeSpec probe = new ProbeSpec();
    probe.placement = Placement.EachNode;
    List<Node> nodes =
        List.of(node("a1", "zone-a", true, false), node("a2", "zone-a", false, false));

    assertThat(ProbeSource.of(probe, nodes)).extracting(ProbeSource::name).containsExactly("a1");
    assertThat(ProbeSource.unavailable(probe, nodes)).containsExactly("a2");
  }

  @Test
  void anyIsNeverUnavailableWhileItCanRun() {
    assertThat(ProbeSource.unavailable(null, List.of())).isEmpty();
  }

  private static ProbeSpec perZone() {
    ProbeSpec probe = new ProbeSpec();
    probe.placement = Placement.PerNodeGroup;
    probe.nodeLabel = ZONE;
    return probe;
  }

  private static Node node(String name, String zone, boolean ready, boolean cordoned) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels(ZONE, zone)
        .endMetadata()
        .withNewSpec()
        .withUnschedulable(cordoned)
        .endSpec()
        .withNewStatus()
        .addNewCondition()
        .withType("Ready")
        .withStatus(ready ? "True" : "False")
        .endCondition()
        .endStatus()
        .build();
  }
}
