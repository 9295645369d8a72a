package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.TlsMode;
import io.smtpreach.cluster.ImageMap;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.OperatorProcess;
import io.smtpreach.cluster.ProcessNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.peers.AlertmanagerServer;
import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.PrometheusServer;
import io.smtpreach.peers.WebhookReceiver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The user story end to end: a real Prometheus scrapes the operator on a real control plane as
 * Prometheus Operator scrapes the chart's ServiceMonitor (its target labels, its honorLabels), with
 * the shipped alert rules (only their {@code for:} shortened), sending to Debian's Alertmanager
 * with the shipped example's routes and inhibition rules (only its timings shortened, every
 * receiver a webhook to the test); dropping 587 on the node fires SmtpSubmissionPortBlocked and
 * pages once, opening it again resolves it, and every dashboard query answers.
 */
@WithLocalCluster
@ExtendWith(PostfixPeer.class)
class PrometheusAlertIT {
  private static final int SUBNET = 94;

  private static NetworkNamespace node;
  private static OperatorProcess operator;
  private static PrometheusServer prometheus;
  private static WebhookReceiver receiver;
  private static AlertmanagerServer alertmanager;
  private static EndpointSteps steps;

  @BeforeAll
  static void start(LocalCluster cluster, PostfixPeer.Instance peer) throws IOException {
    NetworkNamespace.requireSupport();
    PrometheusServer.requireSupport();
    AlertmanagerServer.requireSupport();
    OperatorProcess.requireJar();
    node = NetworkNamespace.create(SUBNET);
    cluster.startNode(
        new ProcessNode.NodeConfig("node-b", "zone-b", "open", node), ImageMap.standard());
    Path kubeconfig = OperatorInstall.install(cluster);
    Path work = ProjectPaths.root().resolve("target/prometheus-it");
    operator =
        OperatorProcess.start(
            kubeconfig,
            Map.of("SMTP_REACH_POD_START_TIMEOUT", "10s"),
            work.resolve("operator.log"));
    receiver = WebhookReceiver.start();
    alertmanager =
        AlertmanagerServer.start(
            work.resolve("alertmanager"),
            AlertmanagerServer.shippedExampleSendingTo(
                receiver.url(), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofHours(1)));
    String rules = PrometheusServer.shippedRulesFiringAtOnce();
    prometheus =
        PrometheusServer.start(
            work.resolve("prometheus"),
            "smtp-reach",
            "127.0.0.1:" + operator.port(),
            rules,
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            alertmanager.address());
    steps = new EndpointSteps(cluster.client(), peer.caFile());
    Awaitility.setDefaultPollInterval(Duration.ofMillis(500));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    if (prometheus != null) {
      prometheus.close();
    }
    if (alertmanager != null) {
      alertmanager.close();
    }
    if (receiver != null) {
      receiver.close();
    }
    if (operator != null) {
      operator.close();
    }
    if (node != null) {
      node.close();
    }
    Awaitility.reset();
  }

  @Test
  void port587DroppedOnTheNodeFiresSmtpSubmissionPortBlockedPagesOnceAndOpeningItResolvesIt(
      @TestNamespace String ns) {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = node.hostAddress();
    spec.connectTimeout = "2s";
    spec.ports =
        List.of(
            new PortSpec(587, TlsMode.StartTLS, null), new PortSpec(465, TlsMode.Implicit, null));
    spec.tls = new io.smtpreach.api.TlsSpec();
    spec.tls.serverName = "smtp.test";
    spec.tls.caBundle = new io.smtpreach.api.CaBundleSource();
    spec.tls.caBundle.configMapKeyRef =
        new io.fabric8.kubernetes.api.model.ConfigMapKeySelector("ca.pem", "smtp-ca", false);
    spec.probe = new ProbeSpec();
    spec.probe.nodeSelector = Map.of("kubernetes.io/hostname", "node-b");
    steps.create(ns, "submission", spec);
    steps.awaitRound(ns, "submission", null);
    await("Prometheus has the first round")
        .until(
            () ->
                !prometheus
                    .query("smtp_reach_port_up{namespace=\"" + ns + "\", port=\"587\"} == 1")
                    .isEmpty());
    assertThat(firing(ns, "SmtpSubmissionPortBlocked")).isEmpty();
    JsonNode series =
        prometheus
            .query("smtp_reach_port_up{namespace=\"" + ns + "\", port=\"587\"}")
            .get(0)
            .get("metric");
    assertThat(series.path("endpoint").asText())
        .as("the series' own endpoint label, not the ServiceMonitor port's name")
        .isEqualTo("submission");
    assertThat(series.has("exported_namespace")).as(series.toString()).isFalse();
    assertThat(series.path("pod").asText())
        .as("a ServiceMonitor scrape's target labels")
        .isEqualTo(PrometheusServer.OPERATOR_POD);
    assertThat(series.path("service").asText()).isEqualTo("smtp-reach");
    assertThat(series.path("job").asText()).isEqualTo("smtp-reach");

    node.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    try {
      steps.probeNow(ns, "submission");
      List<JsonNode> alerts =
          await("SmtpSubmissionPortBlocked firing")
              .until(() -> firing(ns, "SmtpSubmissionPortBlocked"), a -> a.size() == 2);
      JsonNode warning = severity(alerts, "warning");
      assertThat(labelNames(warning))
          .as("the alert's identity and severity, no state nor target label")
          .containsExactlyInAnyOrder(
              "alertname", "namespace", "endpoint", "port", "mode", "source", "family", "severity");
      assertThat(warning.at("/labels/family").asText())
          .as("not probed per family")
          .isEqualTo("any");
      assertThat(warning.at("/labels/endpoint").asText()).isEqualTo("submission");
      assertThat(warning.at("/labels/port").asText()).isEqualTo("587");
      assertThat(warning.at("/labels/source").asText()).isEqualTo("any");
      assertThat(warning.at("/annotations/summary").asText())
          .isEqualTo("Port 587 is Blocked from any for " + ns + "/submission");
      assertThat(warning.at("/annotations/runbook_url").asText())
          .endsWith("/docs/runbooks/SmtpSubmissionPortBlocked.md");
      JsonNode critical = severity(alerts, "critical");
      assertThat(critical.at("/labels/source").asText())
          .as("every source is blocked")
          .isEqualTo("all");
      assertThat(firing(ns, "SmtpNoSecureSubmissionPort")).as("465 still works").isEmpty();

      // The critical, its warning and SmtpPortUnexpectedState for 587: one page, nothing else.
      await("a notification about 587").until(() -> notificationsAbout587(ns), n -> !n.isEmpty());
      List<JsonNode> told =
          await("no other notification about 587")
              .during(Duration.ofSeconds(12))
              .atMost(Duration.ofSeconds(30))
              .until(() -> notificationsAbout587(ns), n -> n.size() == 1);
      assertPage(told.get(0), ns, "firing");
    } finally {
      node.flush();
    }

    steps.probeNow(ns, "submission");
    await("SmtpSubmissionPortBlocked resolved")
        .until(() -> firing(ns, "SmtpSubmissionPortBlocked").isEmpty());
    assertThat(prometheus.query("ALERTS{alertname=\"SmtpReachOperatorDown\"}")).isEmpty();
    await("the page resolved").until(() -> notificationsAbout587(ns), n -> n.size() >= 2);
    List<JsonNode> told =
        await("and nothing else")
            .during(Duration.ofSeconds(8))
            .atMost(Duration.ofSeconds(20))
            .until(() -> notificationsAbout587(ns), n -> n.size() == 2);
    assertPage(told.get(1), ns, "resolved");
  }

  /** Webhook notifications for the endpoint's group that carry an alert about port 587. */
  private static List<JsonNode> notificationsAbout587(String ns) {
    return receiver.notifications().stream()
        .filter(n -> ns.equals(n.at("/groupLabels/namespace").asText()))
        .filter(n -> "submission".equals(n.at("/groupLabels/endpoint").asText()))
        .filter(
            n -> {
              for (JsonNode a : n.get("alerts")) {
                if ("587".equals(a.at("/labels/port").asText())) {
                  return true;
                }
              }
              return false;
            })
        .toList();
  }

  /** The page: the critical SmtpSubmissionPortBlocked alone, its warnings inhibited. */
  private static void assertPage(JsonNode notification, String ns, String status) {
    assertThat(notification.path("status").asText()).as(notification.toString()).isEqualTo(status);
    assertThat(notification.path("receiver").asText()).isEqualTo("smtp-reach-pager");
    assertThat(notification.get("alerts").size()).as(notification.toString()).isEqualTo(1);
    JsonNode alert = notification.at("/alerts/0");
    assertThat(alert.at("/labels/alertname").asText()).isEqualTo("SmtpSubmissionPortBlocked");
    assertThat(alert.at("/labels/severity").asText()).isEqualTo("critical");
    assertThat(alert.at("/labels/namespace").asText()).isEqualTo(ns);
    assertThat(alert.at("/labels/endpoint").asText()).isEqualTo("submission");
    assertThat(alert.at("/labels/port").asText()).isEqualTo("587");
    assertThat(alert.at("/labels/source").asText()).isEqualTo("all");
    assertThat(alert.at("/annotations/runbook_url").asText())
        .endsWith("/docs/runbooks/SmtpSubmissionPortBlocked.md");
  }

  @Test
  void everyDashboardQueryParsesAndReturnsSeries(@TestNamespace String ns) throws IOException {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = node.hostAddress();
    spec.ports = List.of(new PortSpec(465, TlsMode.Implicit, null));
    spec.tls = new io.smtpreach.api.TlsSpec();
    spec.tls.serverName = "smtp.test";
    spec.tls.insecureSkipVerify = true;
    steps.create(ns, "dash", spec);
    steps.awaitRound(ns, "dash", null);
    steps.probeNow(ns, "dash"); // a second round: the rounds counter moves

    // No DNS blocklist is configured here (process nodes have no DNS): the blocklist panel's
    // series exist only with one; ChartOnRealNodesIT runs its query with a list on real nodes.
    List<String> queries =
        PrometheusServer.dashboardQueries(ns).stream()
            .filter(q -> !q.contains("smtp_reach_egress_list"))
            .toList();
    assertThat(queries).hasSizeGreaterThanOrEqualTo(10);
    for (String q : queries) {
      await("dashboard query " + q).until(() -> !prometheus.query(q).isEmpty());
    }
  }

  private static List<JsonNode> firing(String ns, String alert) {
    return prometheus.alerts().stream()
        .filter(a -> alert.equals(a.at("/labels/alertname").asText()))
        .filter(a -> ns.equals(a.at("/labels/namespace").asText()))
        .filter(a -> "firing".equals(a.get("state").asText()))
        .toList();
  }

  private static List<String> labelNames(JsonNode alert) {
    List<String> names = new ArrayList<>();
    alert.get("labels").fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static JsonNode severity(List<JsonNode> alerts, String severity) {
    return alerts.stream()
        .filter(a -> severity.equals(a.at("/labels/severity").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + severity + " alert in " + alerts));
  }
}
