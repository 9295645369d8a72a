package io.smtpreach.metrics;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.smtpreach.cli.VersionProvider;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Makes {@link EndpointMetrics}, and puts {@link BuildInfo} and JOSDK's meters on the application's
 * Prometheus registry.
 */
public class MetricsProducer {
  /**
   * Not registered with the registry: {@link MetricsRoute} streams its series after the registry's,
   * as they are rendered at scrape time.
   */
  @Produces
  @Singleton
  EndpointMetrics endpointMetrics(PrometheusMeterRegistry registry) {
    new BuildInfo(VersionProvider.version()).register(registry.getPrometheusRegistry());
    return new EndpointMetrics();
  }

  /**
   * JOSDK's meters per controller, replacing the operator SDK extension's default of meters per
   * resource as well: those are dozens of objects per endpoint, and at 5,000 endpoints they filled
   * the operator's heap (docs/benchmarks.md). The dashboard sums over controllers anyway.
   */
  @Produces
  @Singleton
  Metrics operatorMetrics(MeterRegistry registry) {
    return MicrometerMetrics.newMicrometerMetricsBuilder(registry)
        .notCollectingMetricsPerResource()
        .build();
  }
}
