package io.smtpreach.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Makes {@link EndpointMetrics} a bean on the application's Prometheus registry. */
public class MetricsProducer {
  @Produces
  @Singleton
  EndpointMetrics endpointMetrics(MeterRegistry registry) {
    return new EndpointMetrics(registry);
  }
}
