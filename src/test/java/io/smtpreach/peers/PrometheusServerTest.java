package io.smtpreach.peers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test Prometheus's configuration, without starting it: a valid config that scrapes as
 * Prometheus Operator scrapes the chart's ServiceMonitor, honouring the series' labels as it does.
 */
class PrometheusServerTest {
  @Test
  void itScrapesAsTheServiceMonitorSaysAndPromtoolAcceptsIt(@TempDir Path dir) throws IOException {
    Requirements.require(
        Requirements.onPath("promtool"), "promtool is not installed (apt-get install prometheus)");
    String config =
        PrometheusServer.config(
            "smtp-reach",
            "127.0.0.1:8080",
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            "127.0.0.1:9093");
    assertThat(config)
        .contains("honor_labels: true")
        .contains("metrics_path: /q/metrics")
        .contains("{target_label: endpoint, replacement: 'http'}")
        .contains("{source_labels: [__meta_kubernetes_namespace], target_label: namespace}")
        .contains("- targets: ['127.0.0.1:9093']");
    Files.writeString(dir.resolve("rules.yaml"), "groups: []\n");
    Path file = Files.writeString(dir.resolve("prometheus.yml"), config);
    var r = ProcessRunner.run(List.of("promtool", "check", "config", file.toString()), 60);
    assertThat(r.exitCode()).as(config + "\n" + r.output()).isZero();
  }
}
