package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.TlsMode;
import io.smtpreach.cluster.ImageMap;
import io.smtpreach.cluster.KubernetesRelease;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.OperatorProcess;
import io.smtpreach.cluster.ProcessNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.reconciler.EndpointSteps;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The oldest Kubernetes the chart claims ({@code kubeVersion} in Chart.yaml), built from its module
 * (hack/controlplane/k8s-oldest): the CRD with its list maps, conditions and validation rules, the
 * chart's manifests, the printer columns, and the operator with only its own RBAC probing a real
 * Postfix from a process node. Every other test runs on the newest release.
 */
@WithLocalCluster(KubernetesRelease.OLDEST)
@ExtendWith(PostfixPeer.class)
class OldestKubernetesIT {
  private static LocalCluster cluster;
  private static KubernetesClient k;
  private static OperatorProcess operator;
  private static EndpointSteps steps;

  @BeforeAll
  static void install(LocalCluster localCluster, PostfixPeer.Instance peer) {
    OperatorProcess.requireJar();
    cluster = localCluster;
    k = cluster.client();
    cluster.startNode(
        new ProcessNode.NodeConfig("node-a", "zone-a", "open", null), ImageMap.standard());
    steps = new EndpointSteps(k, peer.caFile());
    operator =
        OperatorProcess.start(
            OperatorInstall.install(cluster),
            Map.of("SMTP_REACH_DEFAULT_INTERVAL", "10m"),
            ProjectPaths.root().resolve("target/operator-it/oldest-kubernetes.log"));
    Awaitility.setDefaultPollInterval(Duration.ofMillis(250));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(60));
  }

  @AfterAll
  static void uninstall() {
    if (operator != null) {
      operator.close();
    }
    Awaitility.reset();
  }

  @Test
  void theApiServerIsTheOldestReleaseTheChartClaims() throws IOException {
    String chart = Files.readString(ProjectPaths.root().resolve("helm/smtp-reach/Chart.yaml"));
    Matcher claimed = Pattern.compile("kubeVersion: \">=1\\.(\\d+)\\.").matcher(chart);
    assertThat(claimed.find()).as("Chart.yaml's kubeVersion").isTrue();
    assertThat(k.getKubernetesVersion().getMinor()).isEqualTo(claimed.group(1));
  }

  @Test
  void theChartsManifestsAreAccepted() throws IOException {
    k.namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(Helm.NAMESPACE).endMetadata().build())
        .serverSideApply();
    HelmChartIT.dryRun(cluster, Helm.template());
  }

  @Test
  void invalidSpecsAreRejectedWithTheServersMessage(@TestNamespace String ns) {
    SmtpEndpointSpec twice = EndpointSteps.postfix(PostfixPeer.HOST);
    twice.ports = List.of(new PortSpec(587, null, null), new PortSpec(587, TlsMode.Implicit, null));
    assertThatThrownBy(() -> steps.create(ns, "twice", twice))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("Duplicate value");

    SmtpEndpointSpec both = EndpointSteps.postfix(PostfixPeer.HOST);
    both.mxDomain = "example.org";
    assertThatThrownBy(() -> steps.create(ns, "both", both))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("set exactly one of host and mxDomain");
  }

  @Test
  void theOperatorProbesWithItsOwnRbacAndKubectlShowsTheEndpointsOwnPorts(
      @TestNamespace String ns) {
    SmtpEndpointSpec spec = EndpointSteps.postfix(PostfixPeer.HOST);
    spec.ports = List.of(new PortSpec(587, null, null), new PortSpec(465, null, null));
    steps.create(ns, "mail", spec);
    // An MX endpoint outside the admin's probe policy (no memory limit): never probed, so no
    // lookup leaves this machine, but listed with its domain.
    SmtpEndpointSpec direct = new SmtpEndpointSpec();
    direct.mxDomain = "example.org";
    direct.probe = new io.smtpreach.api.ProbeSpec();
    direct.probe.resources =
        new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
            .addToRequests("memory", new io.fabric8.kubernetes.api.model.Quantity("64Mi"))
            .build();
    steps.create(ns, "direct", direct);

    SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);
    assertThat(s.ports).allSatisfy(p -> assertThat(p.state).isEqualTo("Reachable"));
    assertThat(Conditions.find(s.conditions, ConditionTypes.READY))
        .hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("True"));
    await("the Event")
        .until(
            () ->
                k.v1().events().inNamespace(ns).list().getItems().stream()
                    .anyMatch(e -> e.getReason().equals("PortReachable")));
    steps.awaitCondition(ns, "direct", ConditionTypes.PROBES_RUNNING, "False");
    var table = cluster.kubectl("get", "smtpendpoints", "--namespace", ns);
    assertThat(table.output())
        .contains("TARGET", "PORTS")
        .containsPattern("direct\\s+example\\.org\\s+")
        .containsPattern("mail\\s+127\\.0\\.0\\.1\\s+587 Reachable, 465 Reachable\\s+587/StartTLS");
    assertThat(operator.metrics()).contains("smtp_reach_port_up{");
  }
}
