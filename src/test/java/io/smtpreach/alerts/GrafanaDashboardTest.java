package io.smtpreach.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard (deploy/grafana/smtp-reach.json) fits a Prometheus that holds more than one
 * cluster or more than one scrape of the same metric names: every query is filtered by the {@code
 * cluster} and {@code job} variables as well as namespace and endpoint. PrometheusAlertIT runs
 * every query against a real Prometheus.
 */
class GrafanaDashboardTest {
  static final Path DASHBOARD = ProjectPaths.root().resolve("deploy/grafana/smtp-reach.json");
  private static final Pattern METRIC =
      Pattern.compile("\\b((?:smtp_reach|operator_sdk)_[a-z_]+)(\\{[^}]*\\})?");
  private static JsonNode dashboard;

  @BeforeAll
  static void read() throws IOException {
    dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
  }

  @Test
  void clusterIsOptionalAndAllByDefault() {
    JsonNode cluster = variable("cluster");
    assertThat(cluster.at("/query/query").asText())
        .isEqualTo("label_values(smtp_reach_probe_interval_seconds, cluster)");
    assertThat(cluster.get("includeAll").asBoolean()).isTrue();
    assertThat(cluster.get("allValue").asText())
        .as("matches series without a cluster label too")
        .isEqualTo(".*");
    assertThat(cluster.at("/current/value/0").asText()).isEqualTo("$__all");
  }

  @Test
  void jobDefaultsToTheServiceMonitorsJob() {
    JsonNode job = variable("job");
    assertThat(job.get("query").asText()).isEqualTo("smtp-reach");
    assertThat(job.at("/current/value").asText()).isEqualTo("smtp-reach");
  }

  @Test
  void everyQueryIsFilteredByClusterAndJobAndTheEndpointVariables() {
    List<String> exprs = new ArrayList<>();
    dashboard
        .get("panels")
        .forEach(p -> p.get("targets").forEach(t -> exprs.add(t.get("expr").asText())));
    for (String name : List.of("namespace", "endpoint")) {
      exprs.add(variable(name).at("/query/query").asText());
    }
    assertThat(exprs).hasSizeGreaterThanOrEqualTo(12);
    for (String expr : exprs) {
      Matcher m = METRIC.matcher(expr);
      int selectors = 0;
      while (m.find()) {
        selectors++;
        String matchers = m.group(2) == null ? "" : m.group(2);
        assertThat(matchers)
            .as("%s in %s", m.group(1), expr)
            .contains("cluster=~\"$cluster\"", "job=~\"$job\"");
        if (m.group(1).startsWith("smtp_reach_") && !expr.startsWith("label_values")) {
          assertThat(matchers)
              .as("%s in %s", m.group(1), expr)
              .contains("namespace=~\"$namespace\"", "endpoint=~\"$endpoint\"");
        }
      }
      assertThat(selectors).as(expr).isPositive();
    }
  }

  /**
   * With ipFamily Each a source has a series per family: a panel that kept {@code source} but not
   * {@code family} would show the larger of the two and hide the family that is down.
   */
  @Test
  void everyPerSourceQueryKeepsTheFamiliesApart() {
    Pattern by = Pattern.compile("\\bby \\(([^)]*)\\)");
    int perSource = 0;
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        String expr = target.get("expr").asText();
        if (expr.contains("smtp_reach_egress_")) {
          continue; // one egress per source and round, whatever the families
        }
        Matcher m = by.matcher(expr);
        while (m.find()) {
          List<String> labels = List.of(m.group(1).split("\\s*,\\s*"));
          if (labels.contains("source")) {
            perSource++;
            assertThat(labels).as(expr).contains("family");
          }
        }
        String legend = target.path("legendFormat").asText();
        if (legend.contains("{{source}}")) {
          assertThat(legend).as(panel.get("title").asText()).contains("{{family}}");
        }
      }
    }
    assertThat(perSource).isPositive();
  }

  @Test
  void egressAndBlocklistsHaveTheirPanels() {
    List<String> exprs = new ArrayList<>();
    dashboard
        .get("panels")
        .forEach(p -> p.get("targets").forEach(t -> exprs.add(t.get("expr").asText())));
    assertThat(exprs)
        .anyMatch(e -> e.contains("smtp_reach_egress_info{") && e.contains("address, seen_by, ptr"))
        .anyMatch(e -> e.contains("smtp_reach_egress_listed{") && e.contains("source, list)"));
  }

  private static JsonNode variable(String name) {
    for (JsonNode v : dashboard.at("/templating/list")) {
      if (v.get("name").asText().equals(name)) {
        return v;
      }
    }
    throw new AssertionError("no variable " + name);
  }
}
