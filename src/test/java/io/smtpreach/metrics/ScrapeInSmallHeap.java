package io.smtpreach.metrics;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsMode;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Run in a child JVM by {@link ScrapeHeapTest}: endpoints whose four default ports were refused,
 * with the phase timings real probes give (66 series each), scraped three times by the operator's
 * /q/metrics route. Prints the size of the last exposition, in characters.
 */
final class ScrapeInSmallHeap {
  static final List<ProbeTarget> PORTS =
      List.of(
          new ProbeTarget(587, TlsMode.STARTTLS),
          new ProbeTarget(465, TlsMode.IMPLICIT),
          new ProbeTarget(25, TlsMode.STARTTLS),
          new ProbeTarget(2525, TlsMode.STARTTLS));

  private ScrapeInSmallHeap() {}

  public static void main(String[] args) throws Exception {
    List<SmtpEndpoint> endpoints = endpoints(Integer.parseInt(args[0]));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    EndpointMetrics metrics = new EndpointMetrics();
    metrics.renderFrom(endpoints::stream, e -> Optional.of(Duration.ofMinutes(1)));
    MetricsRoute route = new MetricsRoute(registry, metrics);
    long bytes = 0;
    for (int i = 0; i < 3; i++) {
      CountingWriter out = new CountingWriter();
      route.writeTo(out);
      bytes = out.chars;
    }
    System.out.println("scraped " + bytes + " bytes");
  }

  /** Counts what it is given and keeps none of it, as a socket would. */
  private static final class CountingWriter extends Writer {
    long chars;

    @Override
    public void write(char[] buffer, int offset, int length) {
      chars += length;
    }

    @Override
    public void write(String s, int offset, int length) {
      chars += length;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  static List<SmtpEndpoint> endpoints(int count) {
    Instant t = Instant.parse("2026-12-01T08:00:00Z");
    List<SmtpEndpoint> endpoints = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String host = "mail-" + i + ".example.test";
      List<ProbeResult> results = new ArrayList<>();
      for (ProbeTarget port : PORTS) {
        results.add(
            ProbeResult.builder(host, port, IpFamily.ANY)
                .address("198.18.0." + (i % 250 + 1))
                .timing(Phase.DNS, Duration.ofMillis(2))
                .timing(Phase.CONNECT, Duration.ofMillis(1))
                .timing(Phase.TOTAL, Duration.ofMillis(3))
                .build(Reason.CONNECTION_REFUSED, "connection refused"));
      }
      SmtpEndpoint e = new SmtpEndpoint();
      e.setMetadata(
          new ObjectMetaBuilder().withNamespace("team-" + i % 20).withName("mail-" + i).build());
      e.setSpec(new SmtpEndpointSpec());
      e.setStatus(
          StatusAggregator.afterRound(
                  null,
                  PORTS,
                  IpFamily.ANY,
                  List.of(
                      SourceOutcome.ran("any", "node-a", new ProbeReport(host, false, t, results))),
                  1,
                  t,
                  t)
              .status());
      endpoints.add(e);
    }
    return endpoints;
  }
}
