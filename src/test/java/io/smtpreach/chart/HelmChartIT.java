package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The chart's manifests are accepted by a real API server ({@code kubectl apply --dry-run=server})
 * in both RBAC modes, and grant what the build's generated RBAC grants. The ServiceMonitor and
 * PrometheusRule are left out here: this cluster has no monitoring.coreos.com CRDs (HelmChartTest
 * checks their rendering).
 */
@WithLocalCluster
class HelmChartIT {
  @Test
  void theRenderedChartIsAcceptedByTheApiServerInBothRbacModes(LocalCluster cluster)
      throws IOException {
    OperatorInstall.applyCrds(cluster.client());
    for (String ns : List.of(Helm.NAMESPACE, "team-a", "team-b")) {
      cluster
          .client()
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .serverSideApply();
    }
    dryRun(cluster, Helm.template());
    dryRun(cluster, Helm.template("watchNamespaces={team-a,team-b}", "replicaCount=2"));
    dryRun(cluster, Files.readString(ProjectPaths.root().resolve("deploy/smtp-reach.yaml")));
  }

  @Test
  void everyExampleIsAValidSmtpEndpoint(LocalCluster cluster) throws IOException {
    OperatorInstall.applyCrds(cluster.client());
    for (String ns : List.of("mailer", "platform")) {
      cluster
          .client()
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .serverSideApply();
    }
    try (var files = Files.list(ProjectPaths.root().resolve("deploy/examples"))) {
      for (Path f : files.sorted().toList()) {
        var r = cluster.kubectl("apply", "--dry-run=server", "-f", f.toString());
        assertThat(r.exitCode()).as(f + ": " + r.output()).isZero();
        assertThat(r.output()).as(f.toString()).contains("smtpendpoint.smtpreach.io/");
      }
    }
  }

  @Test
  void theChartGrantsWhatTheBuildsGeneratedRbacGrants() throws IOException {
    var manifests = ProjectPaths.root().resolve("target/kubernetes/kubernetes.yml");
    assertThat(operatorGrants(HelmChartTest.docs(Helm.template())))
        .isEqualTo(operatorGrants(HelmChartTest.docs(Files.readString(manifests))));
  }

  /** {@code kubectl apply --dry-run=server} of the manifests succeeds and creates the operator. */
  static void dryRun(LocalCluster cluster, String manifests) throws IOException {
    Path file = Files.createTempFile("smtp-reach-chart", ".yaml");
    try {
      Files.writeString(file, manifests);
      var r = cluster.kubectl("apply", "--dry-run=server", "-f", file.toString());
      assertThat(r.exitCode()).as(r.output()).isZero();
      assertThat(r.output()).contains("deployment.apps/smtp-reach created (server dry run)");
    } finally {
      Files.delete(file);
    }
  }

  /**
   * What the roles bound to a ServiceAccount (the operator's) grant, as "group/resource:verb"
   * strings; the aggregated roles for people (view, edit, admin) are bound to nobody here.
   */
  private static Set<String> operatorGrants(List<JsonNode> docs) {
    Set<String> bound = new HashSet<>();
    for (JsonNode d : docs) {
      if (d.get("kind").asText().endsWith("RoleBinding")
          && d.get("subjects").toString().contains("\"ServiceAccount\"")) {
        bound.add(d.at("/roleRef/kind").asText() + "/" + d.at("/roleRef/name").asText());
      }
    }
    Set<String> out = new HashSet<>();
    for (JsonNode d : docs) {
      String kind = d.get("kind").asText();
      if (kind.endsWith("Role") && bound.contains(kind + "/" + d.at("/metadata/name").asText())) {
        d.get("rules").forEach(r -> out.addAll(grants(r)));
      }
    }
    return out;
  }

  /** A rule as "group/resource:verb" strings, "group/resource/name:verb" with resourceNames. */
  private static Set<String> grants(JsonNode rule) {
    List<String> names = new java.util.ArrayList<>();
    rule.path("resourceNames").forEach(n -> names.add("/" + n.asText()));
    if (names.isEmpty()) {
      names.add("");
    }
    Set<String> out = new HashSet<>();
    for (JsonNode g : rule.get("apiGroups")) {
      for (JsonNode res : rule.get("resources")) {
        for (String n : names) {
          for (JsonNode v : rule.get("verbs")) {
            out.add(g.asText() + "/" + res.asText() + n + ":" + v.asText());
          }
        }
      }
    }
    return out;
  }
}
