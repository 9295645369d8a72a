package io.smtpreach.alerts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.smtpreach.peers.AlertmanagerServer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.WebhookReceiver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Alertmanager example (deploy/alertmanager/alertmanager-example.yaml): amtool accepts
 * it and routes as it says, and a real Alertmanager with its routes and inhibition rules tells an
 * incident once per endpoint. PrometheusAlertIT shows the same behind a real Prometheus.
 */
class AlertmanagerExampleTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String EXAMPLE = AlertmanagerServer.EXAMPLE.toString();

  @BeforeAll
  static void alertmanager() {
    AlertmanagerServer.requireSupport();
  }

  @Test
  void amtoolAcceptsIt() {
    var r = ProcessRunner.run(List.of("amtool", "check-config", EXAMPLE), 60);
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS").contains("2 inhibit rules");
  }

  @Test
  void criticalsPageWarningsGoToTheChannelOtherAlertsAreLeftAlone() {
    assertRoute("smtp-reach-pager", "alertname=SmtpSubmissionPortBlocked", "severity=critical");
    assertRoute("smtp-reach-pager", "alertname=SmtpReachOperatorDown", "severity=critical");
    assertRoute("smtp-reach-warnings", "alertname=SmtpPortUnexpectedState", "severity=warning");
    assertRoute("smtp-reach-warnings", "alertname=SmtpProbesNotRunning", "severity=warning");
    assertRoute("default", "alertname=KubePodCrashLooping", "severity=critical");
  }

  /**
   * 587 blocked from every source of mail/submission (the critical, the zone's warning, and the
   * port not as expected there), 25 open there, and 587 blocked from one zone of mail/relay: one
   * page for submission's 587, one channel message for its 25, one for relay's blocked 587 without
   * its SmtpPortUnexpectedState; nothing else.
   */
  @Test
  void anIncidentIsToldOncePerEndpoint(@TempDir Path dir) throws IOException {
    try (WebhookReceiver receiver = WebhookReceiver.start();
        AlertmanagerServer am =
            AlertmanagerServer.start(
                dir,
                AlertmanagerServer.shippedExampleSendingTo(
                    receiver.url(),
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(1),
                    Duration.ofHours(1)))) {
      am.post(
          List.of(
              alert("SmtpSubmissionPortBlocked", "critical", "submission", "587", "all"),
              alert("SmtpSubmissionPortBlocked", "warning", "submission", "587", "zone-b"),
              alert("SmtpPortUnexpectedState", "warning", "submission", "587", "zone-b"),
              alert("SmtpPortUnexpectedState", "warning", "submission", "25", "zone-a"),
              alert("SmtpSubmissionPortBlocked", "warning", "relay", "587", "zone-a"),
              alert("SmtpPortUnexpectedState", "warning", "relay", "587", "zone-a")));

      await("three notifications")
          .atMost(Duration.ofSeconds(30))
          .until(() -> receiver.notifications().size() >= 3);
      await("and no more")
          .during(Duration.ofSeconds(4))
          .atMost(Duration.ofSeconds(10))
          .until(() -> receiver.notifications().size() == 3);
      assertThat(receiver.notifications())
          .extracting(AlertmanagerExampleTest::summary)
          .as(am.log())
          .containsExactlyInAnyOrder(
              "smtp-reach-pager mail/submission firing [SmtpSubmissionPortBlocked critical 587 all]",
              "smtp-reach-warnings mail/submission firing [SmtpPortUnexpectedState warning 25"
                  + " zone-a]",
              "smtp-reach-warnings mail/relay firing [SmtpSubmissionPortBlocked warning 587"
                  + " zone-a]");
    }
  }

  /**
   * ipFamily Each: 587 blocked from zone-a over IPv4 and, over IPv6, another state not as expected.
   * The SmtpSubmissionPortBlocked over IPv4 silences its own family's SmtpPortUnexpectedState, not
   * IPv6's.
   */
  @Test
  void aFamilyOfASourceDoesNotSilenceTheOther(@TempDir Path dir) throws IOException {
    try (WebhookReceiver receiver = WebhookReceiver.start();
        AlertmanagerServer am =
            AlertmanagerServer.start(
                dir,
                AlertmanagerServer.shippedExampleSendingTo(
                    receiver.url(),
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(1),
                    Duration.ofHours(1)))) {
      am.post(
          List.of(
              alert("SmtpSubmissionPortBlocked", "warning", "dual", "587", "zone-a", "IPv4"),
              alert("SmtpPortUnexpectedState", "warning", "dual", "587", "zone-a", "IPv4"),
              alert("SmtpPortUnexpectedState", "warning", "dual", "587", "zone-a", "IPv6")));

      await("a notification")
          .atMost(Duration.ofSeconds(30))
          .until(() -> !receiver.notifications().isEmpty());
      await("and no more")
          .during(Duration.ofSeconds(4))
          .atMost(Duration.ofSeconds(10))
          .until(() -> receiver.notifications().size() == 1);
      assertThat(receiver.notifications())
          .extracting(AlertmanagerExampleTest::summary)
          .as(am.log())
          .containsExactly(
              "smtp-reach-warnings mail/dual firing [SmtpPortUnexpectedState warning 587"
                  + " zone-a/IPv6, SmtpSubmissionPortBlocked warning 587 zone-a/IPv4]");
    }
  }

  private static void assertRoute(String receiver, String... labels) {
    List<String> command =
        new ArrayList<>(
            List.of(
                "amtool",
                "config",
                "routes",
                "test",
                "--config.file=" + EXAMPLE,
                "--verify.receivers=" + receiver,
                "namespace=mail",
                "endpoint=submission"));
    command.addAll(List.of(labels));
    var r = ProcessRunner.run(command, 60);
    assertThat(r.exitCode()).as(String.join(" ", labels) + ": " + r.output()).isZero();
  }

  private static JsonNode alert(
      String name, String severity, String endpoint, String port, String source) {
    return alert(name, severity, endpoint, port, source, "any");
  }

  private static JsonNode alert(
      String name, String severity, String endpoint, String port, String source, String family) {
    ObjectNode a = JSON.createObjectNode();
    a.putPOJO(
        "labels",
        Map.of(
            "alertname", name,
            "severity", severity,
            "namespace", "mail",
            "endpoint", endpoint,
            "port", port,
            "mode", port.equals("25") ? "Auto" : "StartTLS",
            "source", source,
            "family", family));
    a.putObject("annotations")
        .put("runbook_url", "https://example.invalid/docs/runbooks/" + name + ".md");
    return a;
  }

  /** "receiver namespace/endpoint status [alertname severity port source[/family], ...]" */
  static String summary(JsonNode n) {
    List<String> alerts = new ArrayList<>();
    for (JsonNode a : n.get("alerts")) {
      JsonNode l = a.get("labels");
      alerts.add(
          String.join(
              " ",
              l.path("alertname").asText(),
              l.path("severity").asText(),
              l.path("port").asText(),
              l.path("source").asText()
                  + (l.path("family").asText("any").equals("any")
                      ? ""
                      : "/" + l.path("family").asText())));
    }
    return n.path("receiver").asText()
        + " "
        + n.at("/groupLabels/namespace").asText()
        + "/"
        + n.at("/groupLabels/endpoint").asText()
        + " "
        + n.path("status").asText()
        + " "
        + alerts;
  }
}
