package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.smtpreach.api.ProbeSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a cluster admin lets endpoint authors ask of probe pods, and what it says when not. */
class ProbePolicyTest {
  private final ProbePolicy defaults =
      new ProbePolicy("500m", "512Mi", List.of("*"), List.of("*"), List.of());

  @Test
  void noProbeSettingsAtAllIsAlwaysAllowed() {
    assertThat(defaults.violation(null)).isEmpty();
    assertThat(defaults.violation(new ProbeSpec())).isEmpty();
  }

  @Test
  void resourcesMustKeepAMemoryLimitWithinTheOperatorsBounds() {
    assertThat(defaults.violation(resources(Map.of("memory", "100Mi"), Map.of("memory", "256Mi"))))
        .isEmpty();
    assertThat(defaults.violation(resources(Map.of("memory", "100Mi"), Map.of())))
        .hasValue("probe.resources must set limits.memory (at most 512Mi)");
    assertThat(defaults.violation(resources(Map.of(), Map.of("memory", "1Gi"))))
        .hasValue("probe.resources.limits.memory 1Gi is over the operator's maximum of 512Mi");
    assertThat(defaults.violation(resources(Map.of("cpu", "2"), Map.of("memory", "128Mi"))))
        .hasValue("probe.resources.requests.cpu 2 is over the operator's maximum of 500m");
  }

  @Test
  void tolerationsAndNodeSelectorsOnlyWithTheKeysTheAdminAllows() {
    ProbePolicy policy =
        new ProbePolicy(
            "500m", "512Mi", List.of("dedicated"), List.of("topology.kubernetes.io/*"), List.of());
    ProbeSpec ok = new ProbeSpec();
    ok.tolerations = List.of(toleration("dedicated"));
    ok.nodeSelector = Map.of("topology.kubernetes.io/zone", "a");
    assertThat(policy.violation(ok)).isEmpty();

    ProbeSpec controlPlane = new ProbeSpec();
    controlPlane.tolerations = List.of(toleration("node-role.kubernetes.io/control-plane"));
    assertThat(policy.violation(controlPlane))
        .hasValue(
            "probe.tolerations: key node-role.kubernetes.io/control-plane is not allowed by the"
                + " operator");
    ProbeSpec everything = new ProbeSpec();
    everything.tolerations = List.of(new Toleration(null, null, "Exists", null, null));
    assertThat(policy.violation(everything))
        .hasValue(
            "probe.tolerations: a toleration without a key (all taints) is not allowed by the operator");

    ProbeSpec pool = new ProbeSpec();
    pool.nodeSelector = Map.of("pool", "mail");
    assertThat(policy.violation(pool))
        .hasValue("probe.nodeSelector: key pool is not allowed by the operator");
  }

  @Test
  void labelsTheAdminReservesCannotBeSet() {
    ProbePolicy policy =
        new ProbePolicy(
            "500m", "512Mi", List.of("*"), List.of("*"), List.of("egress.example.com/*"));
    ProbeSpec spec = new ProbeSpec();
    spec.labels = Map.of("app", "mailer", "egress.example.com/allow-all", "true");

    assertThat(policy.violation(spec))
        .hasValue("probe.labels: egress.example.com/allow-all is reserved by the operator");
  }

  private static ProbeSpec resources(Map<String, String> requests, Map<String, String> limits) {
    var b = new ResourceRequirementsBuilder();
    requests.forEach((k, v) -> b.addToRequests(k, new Quantity(v)));
    limits.forEach((k, v) -> b.addToLimits(k, new Quantity(v)));
    ProbeSpec spec = new ProbeSpec();
    spec.resources = b.build();
    return spec;
  }

  private static Toleration toleration(String key) {
    return new Toleration("NoSchedule", key, "Exists", null, null);
  }
}
