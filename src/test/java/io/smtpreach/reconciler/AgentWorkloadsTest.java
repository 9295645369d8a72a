package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.smtpreach.api.AuthSpec;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.ProbeMode;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.ProbeVia;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.TlsSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which endpoints agents probe, and what the agents' workloads look like. */
class AgentWorkloadsTest {
  private final AgentWorkloads workloads = new AgentWorkloads(TestOperatorConfig.DEFAULTS);

  @Test
  void autoMeansAnAgentUnlessTheEndpointNeedsAPodInItsNamespace() {
    assertThat(ProbeSettings.via(new SmtpEndpointSpec(), true)).isEqualTo(ProbeVia.Agent);
    assertThat(ProbeSettings.via(new SmtpEndpointSpec(), false))
        .as("no agents: a pod")
        .isEqualTo(ProbeVia.Pod);

    SmtpEndpointSpec auth = new SmtpEndpointSpec();
    auth.auth = new AuthSpec();
    assertThat(ProbeSettings.via(auth, true)).isEqualTo(ProbeVia.Pod);

    SmtpEndpointSpec ca = new SmtpEndpointSpec();
    ca.tls = new TlsSpec();
    ca.tls.caBundle = new CaBundleSource();
    assertThat(ProbeSettings.via(ca, true)).isEqualTo(ProbeVia.Pod);

    SmtpEndpointSpec labelled = new SmtpEndpointSpec();
    labelled.probe = new ProbeSpec();
    labelled.probe.labels = Map.of("app", "mailer");
    assertThat(ProbeSettings.via(labelled, true)).isEqualTo(ProbeVia.Pod);

    SmtpEndpointSpec zones = new SmtpEndpointSpec();
    zones.probe = new ProbeSpec();
    zones.probe.placement = io.smtpreach.api.Placement.PerNodeGroup;
    zones.probe.nodeLabel = "topology.kubernetes.io/zone";
    assertThat(ProbeSettings.via(zones, true)).as("placement alone").isEqualTo(ProbeVia.Agent);

    SmtpEndpointSpec pod = new SmtpEndpointSpec();
    pod.probe = new ProbeSpec();
    pod.probe.mode = ProbeMode.Pod;
    assertThat(ProbeSettings.via(pod, true)).isEqualTo(ProbeVia.Pod);
  }

  @Test
  void aZonesAgentIsADeploymentPinnedToTheZoneWithoutTokenOrPrivileges() {
    ProbeSource zoneB = new ProbeSource("zone-b", Map.of("topology.kubernetes.io/zone", "zone-b"));
    AgentWorkloads.Identity id = AgentWorkloads.identity(zoneB);

    Deployment d = (Deployment) workloads.workload(id, "smtp-reach-system");

    assertThat(d.getMetadata().getNamespace()).isEqualTo("smtp-reach-system");
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getNodeSelector())
        .containsExactly(Map.entry("topology.kubernetes.io/zone", "zone-b"));
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getVolumes())
        .singleElement()
        .satisfies(
            v -> assertThat(v.getSecret().getSecretName()).isEqualTo("smtp-reach-agent-key"));
    Container c = pod.getContainers().get(0);
    assertThat(c.getCommand()).containsExactly("/opt/smtp-reach/bin/agent");
    assertThat(c.getArgs()).contains("--listen=8440", "--key-file=/etc/smtp-reach/agent/key");
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(d.getSpec().getSelector().getMatchLabels())
        .isEqualTo(
            d.getSpec().getTemplate().getMetadata().getLabels().entrySet().stream()
                .filter(e -> e.getKey().equals(AgentWorkloads.AGENT_LABEL))
                .collect(
                    java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
  }

  @Test
  void everyNodeIsOneDaemonSetAndAnyIsOneUnpinnedDeployment() {
    AgentWorkloads.Identity node =
        AgentWorkloads.identity(
            new ProbeSource("node-a", Map.of(ProbeSource.HOSTNAME_LABEL, "node-a")));
    assertThat(node)
        .isEqualTo(
            AgentWorkloads.identity(
                new ProbeSource("node-b", Map.of(ProbeSource.HOSTNAME_LABEL, "node-b"))));
    assertThat(workloads.workload(node, "ns")).isInstanceOf(DaemonSet.class);

    AgentWorkloads.Identity any = AgentWorkloads.identity(new ProbeSource("any", Map.of()));
    Deployment d = (Deployment) workloads.workload(any, "ns");
    assertThat(d.getMetadata().getName()).isEqualTo("smtp-reach-agent-any");
    assertThat(d.getSpec().getTemplate().getSpec().getNodeSelector()).isNull();

    assertThat(AgentWorkloads.identity(new ProbeSource("zone-a", Map.of("zone", "zone-a"))).id())
        .isNotEqualTo(
            AgentWorkloads.identity(new ProbeSource("zone-b", Map.of("zone", "zone-b"))).id());
  }

  @Test
  void aSweepReappliesOnlyAWorkloadThatIsNotAsTheOperatorWouldApplyIt() {
    AgentWorkloads.Identity any = AgentWorkloads.identity(new ProbeSource("any", Map.of()));
    HasMetadata wanted = AgentWorkloads.stamped(workloads.workload(any, "ns"));
    HasMetadata asApplied = AgentWorkloads.stamped(workloads.workload(any, "ns"));
    assertThat(AgentWorkloads.appliedAsIs(wanted, asApplied)).as("unchanged: no write").isTrue();

    assertThat(AgentWorkloads.appliedAsIs(wanted, null)).as("gone").isFalse();
    assertThat(AgentWorkloads.appliedAsIs(wanted, workloads.workload(any, "ns")))
        .as("applied by an operator that did not stamp it")
        .isFalse();

    HasMetadata otherImage =
        AgentWorkloads.stamped(
            new AgentWorkloads(
                    new TestOperatorConfig() {
                      @Override
                      public String probeImage() {
                        return "registry.example/smtp-reach:next";
                      }
                    })
                .workload(any, "ns"));
    assertThat(AgentWorkloads.appliedAsIs(otherImage, asApplied)).as("an upgrade").isFalse();

    HasMetadata owned = workloads.workload(any, "ns");
    owned
        .getMetadata()
        .setOwnerReferences(
            List.of(
                new OwnerReferenceBuilder()
                    .withApiVersion("apps/v1")
                    .withKind("Deployment")
                    .withName("smtp-reach")
                    .withUid("u-1")
                    .build()));
    assertThat(AgentWorkloads.appliedAsIs(AgentWorkloads.stamped(owned), asApplied))
        .as("the owner found since")
        .isFalse();

    HasMetadata deleting = AgentWorkloads.stamped(workloads.workload(any, "ns"));
    deleting.getMetadata().setDeletionTimestamp("2026-12-01T00:00:00Z");
    assertThat(AgentWorkloads.appliedAsIs(wanted, deleting)).as("being deleted").isFalse();
  }
}
