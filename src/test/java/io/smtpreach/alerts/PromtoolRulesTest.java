package io.smtpreach.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules: valid, unit-tested with promtool (every alert firing and not firing, on
 * series labelled as Prometheus Operator scrapes them), and each with a severity, a summary, a
 * description and a runbook that exists.
 */
class PromtoolRulesTest {
  static final Path RULES = ProjectPaths.root().resolve("deploy/prometheus/smtp-reach-rules.yaml");
  static final Path TESTS =
      ProjectPaths.root().resolve("deploy/prometheus/tests/smtp-reach-rules.test.yaml");

  @BeforeAll
  static void promtool() {
    Requirements.require(
        Requirements.onPath("promtool"), "promtool is not installed (apt-get install prometheus)");
  }

  @Test
  void theRulesAreValid() {
    var r = ProcessRunner.run(List.of("promtool", "check", "rules", RULES.toString()), 60);
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS: 10 rules found");
  }

  @Test
  void everyAlertFiresAndStaysQuietAsItsUnitTestsSay() {
    var r = ProcessRunner.run(List.of("promtool", "test", "rules", TESTS.toString()), 120);
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("SUCCESS");
  }

  @Test
  void everyAlertIsTestedAndHasItsAnnotationsAndARunbook() throws IOException {
    String tests = Files.readString(TESTS);
    for (JsonNode rule : rules()) {
      String alert = rule.get("alert").asText();
      assertThat(rule.at("/labels/severity").asText()).as(alert).isIn("warning", "critical");
      assertThat(rule.at("/annotations/summary").asText()).as(alert).isNotBlank();
      assertThat(rule.at("/annotations/description").asText()).as(alert).isNotBlank();
      assertThat(rule.at("/annotations/runbook_url").asText())
          .as(alert)
          .endsWith("/docs/runbooks/" + alert + ".md");
      assertThat(ProjectPaths.root().resolve("docs/runbooks/" + alert + ".md")).exists();
      assertThat(tests).as("a promtool test for " + alert).contains("alertname: " + alert);
    }
  }

  /**
   * The promtool tests feed series as a ServiceMonitor scrape stores them: with the target labels
   * Prometheus Operator adds, which change when another replica leads. An alert that kept one of
   * them would restart its timer then, and its exact exp_labels would fail.
   */
  @Test
  void everyTestSeriesCarriesTheTargetLabelsOfAServiceMonitorScrape() throws IOException {
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(TESTS.toFile());
    List<String> series = new ArrayList<>();
    root.get("tests")
        .forEach(t -> t.get("input_series").forEach(s -> series.add(s.get("series").asText())));
    assertThat(series).isNotEmpty();
    for (String s : series) {
      for (String label : List.of("job", "instance", "pod", "service", "container", "namespace")) {
        assertThat(s).as(label + " in " + s).containsPattern("[{,]" + label + "=\"");
      }
    }
  }

  /** Static labels: severity, and the critical SmtpSubmissionPortBlocked's source="all". */
  @Test
  void noAlertAddsALabelButItsSeverity() throws IOException {
    for (JsonNode rule : rules()) {
      List<String> names = new ArrayList<>();
      rule.get("labels").fieldNames().forEachRemaining(names::add);
      names.remove("severity");
      if (rule.at("/labels/severity").asText().equals("critical")
          && rule.get("alert").asText().equals("SmtpSubmissionPortBlocked")) {
        names.remove("source");
      }
      assertThat(names).as(rule.get("alert").asText()).isEmpty();
    }
  }

  static List<JsonNode> rules() throws IOException {
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(RULES.toFile());
    List<JsonNode> out = new ArrayList<>();
    root.get("groups").forEach(g -> g.get("rules").forEach(out::add));
    return out;
  }
}
