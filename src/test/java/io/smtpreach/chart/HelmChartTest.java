package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart: it lints strictly, renders what a locked-down operator needs in each mode, keeps
 * the single sources (CRD, alert rules, dashboard) and deploy/ equal to it, and its schema refuses
 * bad values.
 */
class HelmChartTest {
  private static final ObjectMapper YAML = new YAMLMapper();
  private static final Path ROOT = ProjectPaths.root();

  @Test
  void theChartLintsStrictly() {
    var r = Helm.run("lint", "--strict", Helm.CHART.toString());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("1 chart(s) linted, 0 chart(s) failed");
  }

  @Test
  void theDefaultsRenderALockedDownOperatorWithClusterWideRbac() throws IOException {
    List<JsonNode> docs = docs(Helm.template());
    JsonNode deployment = only(docs, "Deployment");
    JsonNode pod = deployment.at("/spec/template/spec");
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
    JsonNode c = pod.at("/containers/0");
    assertThat(c.at("/image").asText()).isEqualTo("ghcr.io/smtp-reach/smtp-reach:0.1.0");
    assertThat(c.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(c.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();
    assertThat(c.at("/securityContext/capabilities/drop/0").asText()).isEqualTo("ALL");
    assertThat(c.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
    assertThat(c.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
    assertThat(env(c, "QUARKUS_OPERATOR_SDK_CONTROLLERS_SMTPENDPOINT_NAMESPACES"))
        .isEqualTo("JOSDK_ALL_NAMESPACES");
    assertThat(env(c, "SMTP_REACH_PROBE_IMAGE")).isEqualTo("ghcr.io/smtp-reach/smtp-reach:0.1.0");
    assertThat(env(c, "SMTP_REACH_PROBE_POLICY_MAX_MEMORY")).isEqualTo("512Mi");
    assertThat(env(c, "SMTP_REACH_PROBE_POLICY_ALLOWED_TOLERATION_KEYS")).isEqualTo("*");
    assertThat(kinds(docs))
        .contains(
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Service",
            "ConfigMap");
    assertThat(kinds(docs)).doesNotContain("ServiceMonitor", "PrometheusRule");
    JsonNode lease = named(docs, "Role", "smtp-reach-leader-election");
    assertThat(lease.at("/metadata/namespace").asText()).isEqualTo(Helm.NAMESPACE);
    assertThat(lease.at("/rules/1/resourceNames/0").asText())
        .as("the one Secret it may read: its pod signing key, in its own namespace")
        .isEqualTo("smtp-reach-pod-signing");
    assertThat(
            docs.stream()
                .filter(d -> kind(d).endsWith("Role") && d != lease)
                .map(d -> d.get("rules").toString()))
        .noneMatch(rules -> rules.contains("secrets"));
  }

  @Test
  void watchedNamespacesGetRoleBindingsInsteadOfAClusterWideOne() throws IOException {
    List<JsonNode> docs =
        docs(Helm.template("watchNamespaces={team-a,team-b}", "labelSelector=team=mail"));
    assertThat(
            docs.stream()
                .filter(d -> kind(d).equals("RoleBinding") && name(d).equals("smtp-reach")))
        .extracting(d -> d.at("/metadata/namespace").asText())
        .containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(
            docs.stream()
                .filter(d -> kind(d).equals("ClusterRoleBinding"))
                .map(HelmChartTest::name))
        .containsExactly("smtp-reach-nodes");
    JsonNode c = only(docs, "Deployment").at("/spec/template/spec/containers/0");
    assertThat(env(c, "QUARKUS_OPERATOR_SDK_CONTROLLERS_SMTPENDPOINT_NAMESPACES"))
        .isEqualTo("team-a,team-b");
    assertThat(env(c, "QUARKUS_OPERATOR_SDK_CONTROLLERS_SMTPENDPOINT_SELECTOR"))
        .isEqualTo("team=mail");
  }

  @Test
  void theServiceMonitorAndPrometheusRuleCarryTheirExtraLabelsAndTheShippedRules()
      throws IOException {
    List<JsonNode> docs =
        docs(
            Helm.template(
                "serviceMonitor.enabled=true",
                "serviceMonitor.labels.release=kps",
                "prometheusRule.enabled=true",
                "prometheusRule.labels.release=kps"));
    JsonNode monitor = only(docs, "ServiceMonitor");
    assertThat(monitor.at("/metadata/labels/release").asText()).isEqualTo("kps");
    assertThat(monitor.at("/spec/endpoints/0/path").asText()).isEqualTo("/q/metrics");
    assertThat(monitor.at("/spec/jobLabel").asText()).isEqualTo("app.kubernetes.io/part-of");
    assertThat(monitor.at("/spec/endpoints/0/honorLabels").asBoolean())
        .as("the series' own namespace and endpoint win over Prometheus Operator's target labels")
        .isTrue();
    JsonNode rule = only(docs, "PrometheusRule");
    assertThat(rule.at("/metadata/labels/release").asText()).isEqualTo("kps");
    JsonNode shipped =
        YAML.readTree(ROOT.resolve("deploy/prometheus/smtp-reach-rules.yaml").toFile());
    assertThat(rule.at("/spec/groups")).isEqualTo(shipped.get("groups"));
  }

  @Test
  void theChartsPullSecretsReachTheProbePods() throws IOException {
    JsonNode pod =
        only(
                docs(
                    Helm.template(
                        "imagePullSecrets[0].name=registry-a",
                        "imagePullSecrets[1].name=registry-b")),
                "Deployment")
            .at("/spec/template/spec");
    assertThat(pod.at("/imagePullSecrets/1/name").asText()).isEqualTo("registry-b");
    assertThat(env(pod.at("/containers/0"), "SMTP_REACH_PROBE_IMAGE_PULL_SECRETS"))
        .isEqualTo("registry-a,registry-b");
    assertThat(
            env(
                only(docs(Helm.template()), "Deployment").at("/spec/template/spec/containers/0"),
                "SMTP_REACH_PROBE_IMAGE_PULL_SECRETS"))
        .isNull();
  }

  @Test
  void theBlocklistsReachTheOperatorAndNoneIsTheDefault() throws IOException {
    JsonNode container =
        only(docs(Helm.template("probe.dnsblZones={bl.example,other.example}")), "Deployment")
            .at("/spec/template/spec/containers/0");
    assertThat(env(container, "SMTP_REACH_DNSBL_ZONES")).isEqualTo("bl.example,other.example");
    assertThat(
            env(
                only(docs(Helm.template()), "Deployment").at("/spec/template/spec/containers/0"),
                "SMTP_REACH_DNSBL_ZONES"))
        .isNull();
    var bad =
        Helm.run("template", "x", Helm.CHART.toString(), "--set", "probe.dnsblZones={a b.example}");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.output()).contains("/probe/dnsblZones");
  }

  @Test
  void twoReleasesInOneNamespaceHoldLeasesOfTheirOwn() throws IOException {
    List<JsonNode> a = docs(Helm.templateRelease("mail-a", Helm.CHART));
    List<JsonNode> b = docs(Helm.templateRelease("mail-b", Helm.CHART));
    String leaseA = leaseName(a);
    String leaseB = leaseName(b);
    assertThat(leaseA).isEqualTo("mail-a-smtp-reach-operator");
    assertThat(leaseB).isEqualTo("mail-b-smtp-reach-operator");
    assertThat(leaseName(docs(Helm.template())))
        .as(
            "the release named like the chart keeps the Lease it had, so an upgrade never elects two")
        .isEqualTo("smtp-reach-operator");
    for (List<JsonNode> release : List.of(a, b)) {
      for (JsonNode rule :
          named(release, "Role", fullname(release) + "-leader-election").get("rules")) {
        if (rule.get("resources").toString().contains("leases") && rule.has("resourceNames")) {
          assertThat(rule.get("resourceNames").toString()).contains(leaseName(release));
        }
      }
    }
  }

  @Test
  void theOperatorMayOnlyReadSmtpEndpointsAndPatchTheirStatus() throws IOException {
    List<String> grants = new ArrayList<>();
    for (JsonNode rule : named(docs(Helm.template()), "ClusterRole", "smtp-reach").get("rules")) {
      if (rule.get("apiGroups").toString().contains("smtpreach.io")) {
        for (JsonNode res : rule.get("resources")) {
          for (JsonNode verb : rule.get("verbs")) {
            grants.add(res.asText() + ":" + verb.asText());
          }
        }
      }
    }
    assertThat(grants)
        .as("the reconciler reads endpoints, server-side applies their status, has no finalizer")
        .containsExactlyInAnyOrder(
            "smtpendpoints:get",
            "smtpendpoints:list",
            "smtpendpoints:watch",
            "smtpendpoints/status:patch");
  }

  @Test
  void theBuiltInViewEditAndAdminRolesCoverSmtpEndpoints() throws IOException {
    List<JsonNode> docs = docs(Helm.template());
    JsonNode view = aggregatedTo(docs, "view");
    assertThat(view.at("/rules/0/resources").toString())
        .contains("\"smtpendpoints\"", "smtpendpoints/status");
    assertThat(view.at("/rules/0/verbs").toString()).isEqualTo("[\"get\",\"list\",\"watch\"]");
    for (String role : List.of("edit", "admin")) {
      JsonNode r = aggregatedTo(docs, role);
      assertThat(r.at("/rules/0/resources").toString()).isEqualTo("[\"smtpendpoints\"]");
      assertThat(r.at("/rules/0/verbs").toString())
          .contains("\"create\"", "\"update\"", "\"patch\"", "\"delete\"");
    }
    assertThat(docs(Helm.template("rbac.aggregateToBuiltInRoles=false")))
        .noneMatch(d -> d.at("/metadata/labels").toString().contains("aggregate-to-"));
  }

  @Test
  void securityContextsAreOverridableAndDefaultToTheHardenedOnes() throws IOException {
    JsonNode pod =
        only(
                docs(
                    Helm.template(
                        "podSecurityContext.runAsUser=1000",
                        "podSecurityContext.fsGroup=2000",
                        "securityContext.readOnlyRootFilesystem=false")),
                "Deployment")
            .at("/spec/template/spec");
    assertThat(pod.at("/securityContext/runAsUser").asInt()).isEqualTo(1000);
    assertThat(pod.at("/securityContext/fsGroup").asInt()).isEqualTo(2000);
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    JsonNode c = pod.at("/containers/0/securityContext");
    assertThat(c.at("/readOnlyRootFilesystem").asBoolean()).isFalse();
    assertThat(c.at("/capabilities/drop/0").asText()).isEqualTo("ALL");
  }

  @Test
  void globalValuesOfAParentChartAreAccepted() {
    var r =
        Helm.run(
            "template", "x", Helm.CHART.toString(), "--set", "global.imageRegistry=registry.corp");
    assertThat(r.exitCode()).as(r.output()).isZero();
  }

  @Test
  void nameOverridesNameEverythingAndTheMetricsJobStaysSmtpReach() throws IOException {
    List<JsonNode> full = docs(Helm.template("fullnameOverride=mail-probe"));
    assertThat(name(only(full, "Deployment"))).isEqualTo("mail-probe");
    assertThat(named(full, "ClusterRoleBinding", "mail-probe").at("/roleRef/name").asText())
        .isEqualTo("mail-probe");
    assertThat(named(full, "ServiceAccount", "mail-probe")).isNotNull();
    assertThat(leaseName(full)).isEqualTo("mail-probe-operator");

    List<JsonNode> renamed =
        docs(Helm.template("nameOverride=relay-check", "serviceMonitor.enabled=true"));
    JsonNode deployment = only(renamed, "Deployment");
    assertThat(name(deployment)).isEqualTo("smtp-reach-relay-check");
    assertThat(deployment.at("/spec/selector/matchLabels/app.kubernetes.io~1name").asText())
        .isEqualTo("relay-check");
    String jobLabel = only(renamed, "ServiceMonitor").at("/spec/jobLabel").asText();
    assertThat(only(renamed, "Service").at("/metadata/labels").get(jobLabel).asText())
        .as("the alerts look for job smtp-reach, whatever the chart is called")
        .isEqualTo("smtp-reach");
  }

  @Test
  void anImageDigestWinsOverTheTag() throws IOException {
    String digest = "sha256:" + "0123456789abcdef".repeat(4);
    JsonNode c =
        only(docs(Helm.template("image.tag=9.9.9", "image.digest=" + digest)), "Deployment")
            .at("/spec/template/spec/containers/0");
    assertThat(c.at("/image").asText()).isEqualTo("ghcr.io/smtp-reach/smtp-reach@" + digest);
    assertThat(env(c, "SMTP_REACH_PROBE_IMAGE"))
        .as("probe pods run the same image")
        .isEqualTo("ghcr.io/smtp-reach/smtp-reach@" + digest);
    var bad = Helm.run("template", "x", Helm.CHART.toString(), "--set", "image.digest=latest");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.output()).contains("/image/digest");
  }

  @Test
  void theNotesCommandsWorkAsPrinted() throws IOException {
    List<String> raw = notes("service.port=9090").lines().toList();
    int heredoc = indexOf(raw, l -> l.contains("<<"));
    assertThat(raw.get(heredoc)).startsWith("kubectl apply -f - <<'EOF'");
    assertThat(raw.subList(heredoc + 1, raw.size()))
        .as("the shell ends a here-document only at its delimiter alone at the start of a line")
        .contains("EOF");
    List<String> lines = raw.stream().map(String::strip).toList();
    String forward =
        lines.stream().filter(l -> l.contains("port-forward")).findFirst().orElseThrow();
    assertThat(forward)
        .as("port-forward runs until stopped: nothing chained after it would ever run")
        .doesNotContain("&&", ";", "|")
        .endsWith("svc/smtp-reach 8080:9090");
    assertThat(lines)
        .as("the metrics are fetched by a command of its own")
        .anyMatch(l -> l.startsWith("curl ") && l.contains("localhost:8080/q/metrics"));
  }

  private static int indexOf(List<String> lines, java.util.function.Predicate<String> p) {
    for (int i = 0; i < lines.size(); i++) {
      if (p.test(lines.get(i))) {
        return i;
      }
    }
    throw new AssertionError("no such line in " + lines);
  }

  /** NOTES.txt as {@code helm install} prints it, rendered with no cluster. */
  private static String notes(String... sets) throws IOException {
    Path chart = Files.createTempDirectory("smtp-reach-notes").resolve("smtp-reach");
    try (var files = Files.walk(Helm.CHART)) {
      for (Path f : files.toList()) {
        Path to = chart.resolve(Helm.CHART.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    Files.copy(chart.resolve("templates/NOTES.txt"), chart.resolve("files/notes-under-test.txt"));
    Files.writeString(
        chart.resolve("templates/notes-under-test.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes-under-test}\n"
            + "data: {notes: {{ tpl (.Files.Get \"files/notes-under-test.txt\") . | toJson }}}\n");
    List<JsonNode> docs = docs(Helm.templateRelease("smtp-reach", chart, sets));
    return named(docs, "ConfigMap", "notes-under-test").at("/data/notes").asText();
  }

  private static String leaseName(List<JsonNode> docs) {
    return env(
        only(docs, "Deployment").at("/spec/template/spec/containers/0"), "SMTP_REACH_LEASE_NAME");
  }

  private static String fullname(List<JsonNode> docs) {
    return name(only(docs, "Deployment"));
  }

  private static JsonNode aggregatedTo(List<JsonNode> docs, String role) {
    List<JsonNode> found =
        docs.stream()
            .filter(d -> kind(d).equals("ClusterRole"))
            .filter(
                d ->
                    "true"
                        .equals(
                            d.at("/metadata/labels")
                                .path("rbac.authorization.k8s.io/aggregate-to-" + role)
                                .asText()))
            .toList();
    assertThat(found).as("a ClusterRole aggregated to " + role).hasSize(1);
    return found.get(0);
  }

  @Test
  void theSchemaRefusesBadValuesWithAMessage() {
    var r =
        Helm.run("template", "x", Helm.CHART.toString(), "--set", "operator.defaultInterval=soon");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output()).contains("/operator/defaultInterval");
    var typo =
        Helm.run("template", "x", Helm.CHART.toString(), "--set", "serviceMonitr.enabled=true");
    assertThat(typo.exitCode()).isNotZero();
    assertThat(typo.output()).contains("serviceMonitr");
  }

  @Test
  void theChartsCopiesAndDeployAreWhatTheirSourcesSay() throws IOException {
    assertSame(
        "crds/smtpendpoints.smtpreach.io-v1.yml",
        "helm/smtp-reach/crds/smtpendpoints.smtpreach.io-v1.yml");
    assertSame(
        "deploy/prometheus/smtp-reach-rules.yaml", "helm/smtp-reach/files/smtp-reach-rules.yaml");
    assertSame("deploy/grafana/smtp-reach.json", "helm/smtp-reach/files/smtp-reach.json");
    assertThat(Files.readString(ROOT.resolve("deploy/smtp-reach.yaml")))
        .as("deploy/smtp-reach.yaml is the chart's default rendering: run make manifests")
        .endsWith(Helm.template());
  }

  private static void assertSame(String source, String copy) throws IOException {
    assertThat(Files.readString(ROOT.resolve(copy)))
        .as("%s is a copy of %s: run make manifests", copy, source)
        .isEqualTo(Files.readString(ROOT.resolve(source)));
  }

  static List<JsonNode> docs(String yaml) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (var parser = new YAMLFactory().createParser(yaml)) {
      var it = YAML.readValues(parser, JsonNode.class);
      while (it.hasNext()) {
        JsonNode d = it.next();
        if (d != null && d.has("kind")) {
          out.add(d);
        }
      }
    }
    return out;
  }

  static String kind(JsonNode d) {
    return d.get("kind").asText();
  }

  static String name(JsonNode d) {
    return d.at("/metadata/name").asText();
  }

  static List<String> kinds(List<JsonNode> docs) {
    return docs.stream().map(HelmChartTest::kind).toList();
  }

  static JsonNode only(List<JsonNode> docs, String kind) {
    List<JsonNode> found = docs.stream().filter(d -> kind(d).equals(kind)).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  static JsonNode named(List<JsonNode> docs, String kind, String name) {
    return docs.stream()
        .filter(d -> kind(d).equals(kind) && name(d).equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  private static String env(JsonNode container, String name) {
    for (JsonNode e : container.get("env")) {
      if (e.get("name").asText().equals(name)) {
        return e.path("value").asText();
      }
    }
    return null;
  }
}
