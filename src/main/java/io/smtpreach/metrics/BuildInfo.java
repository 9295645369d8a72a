package io.smtpreach.metrics;

import io.prometheus.client.Collector;
import java.util.List;

/**
 * {@code smtp_reach_build_info{version}}: 1, labelled with the running operator's version, as
 * Prometheus' own exporters expose theirs; joins and dashboards tell versions apart during an
 * upgrade.
 */
public final class BuildInfo extends Collector {
  public static final String NAME = "smtp_reach_build_info";

  private final String version;

  public BuildInfo(String version) {
    this.version = version;
  }

  @Override
  public List<MetricFamilySamples> collect() {
    return List.of(
        new MetricFamilySamples(
            NAME,
            Type.GAUGE,
            "1, labelled with the operator's version",
            List.of(
                new MetricFamilySamples.Sample(NAME, List.of("version"), List.of(version), 1))));
  }
}
