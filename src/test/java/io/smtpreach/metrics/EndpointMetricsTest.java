package io.smtpreach.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsMode;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Series follow the status: one per state, bounded labels, and gone with their endpoint. */
class EndpointMetricsTest {
  private static final ProbeTarget P587 = new ProbeTarget(587, TlsMode.STARTTLS);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final EndpointMetrics metrics = new EndpointMetrics(registry);

  @Test
  void eachSourceGetsUpStateAndExpectationSeries() {
    metrics.update("team", "mail", status(Reason.CONNECT_TIMEOUT), Duration.ofMinutes(5));

    assertThat(gauge(EndpointMetrics.PORT_UP, "source", "zone-b")).isEqualTo(0.0);
    assertThat(gauge(EndpointMetrics.PORT_STATE, "state", "Blocked")).isEqualTo(1.0);
    assertThat(gauge(EndpointMetrics.PORT_STATE, "state", "Reachable")).isEqualTo(0.0);
    assertThat(gauge(EndpointMetrics.PORT_REASON, "reason", "ConnectTimeout")).isEqualTo(1.0);
    assertThat(gauge(EndpointMetrics.PORT_AS_EXPECTED, "expect", "Reachable")).isEqualTo(0.0);
    assertThat(gauge(EndpointMetrics.INTERVAL, "endpoint", "mail")).isEqualTo(300.0);
    assertThat(registry.getMeters())
        .flatExtracting(m -> m.getId().getTags())
        .extracting(t -> t.getKey())
        .isSubsetOf(
            "namespace",
            "endpoint",
            "port",
            "mode",
            "source",
            "state",
            "reason",
            "expect",
            "phase");
  }

  @Test
  void aChangedReasonReplacesItsSeriesAndDeletionRemovesAll() {
    metrics.update("team", "mail", status(Reason.CONNECT_TIMEOUT), Duration.ofMinutes(5));
    metrics.update("team", "mail", status(Reason.OK), Duration.ofMinutes(5));
    metrics.roundFinished("team", "mail", StatusAggregator.RoundOutcome.Succeeded);

    assertThat(registry.find(EndpointMetrics.PORT_REASON).gauges())
        .singleElement()
        .satisfies(g -> assertThat(g.getId().getTag("reason")).isEqualTo("Ok"));
    assertThat(gauge(EndpointMetrics.PORT_UP, "source", "zone-b")).isEqualTo(1.0);
    metrics.update("team", "other", status(Reason.OK), Duration.ofMinutes(1));

    metrics.remove("team", "mail");

    assertThat(registry.getMeters())
        .extracting(Meter::getId)
        .allSatisfy(id -> assertThat(id.getTag("endpoint")).isEqualTo("other"));
  }

  @Test
  void aSweepRemovesTheSeriesOfEndpointsThatNoLongerExist() {
    metrics.update("team", "kept", status(Reason.OK), Duration.ofMinutes(5));
    metrics.update("team", "deleted", status(Reason.OK), Duration.ofMinutes(5));
    metrics.roundFinished("team", "deleted", StatusAggregator.RoundOutcome.Failed);

    metrics.retainOnly((namespace, name) -> name.equals("kept"));

    assertThat(registry.getMeters())
        .isNotEmpty()
        .allSatisfy(m -> assertThat(m.getId().getTag("endpoint")).isEqualTo("kept"));
  }

  private static io.smtpreach.api.SmtpEndpointStatus status(Reason reason) {
    ProbeResult r =
        ProbeResult.builder("h", P587, IpFamily.ANY)
            .negotiated(reason == Reason.OK ? TlsMode.STARTTLS : null)
            .build(reason, reason.displayName());
    Instant t = Instant.parse("2026-11-24T10:00:00Z");
    return StatusAggregator.afterRound(
            null,
            List.of(P587),
            List.of(
                SourceOutcome.ran("zone-b", "node-b", new ProbeReport("h", false, t, List.of(r)))),
            1,
            t,
            t)
        .status();
  }

  private double gauge(String name, String tag, String value) {
    return registry.get(name).tag(tag, value).gauge().value();
  }
}
