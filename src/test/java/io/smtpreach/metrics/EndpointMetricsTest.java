package io.smtpreach.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.metrics.Exposition.Sample;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsMode;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Series follow the status at scrape time: one per state, bounded labels, gone with their endpoint.
 */
class EndpointMetricsTest {
  private static final ProbeTarget P587 = new ProbeTarget(587, TlsMode.STARTTLS);
  private final EndpointMetrics metrics = new EndpointMetrics();

  /** Stands in for the informer cache: name to endpoint. */
  private final Map<String, SmtpEndpoint> cache = new ConcurrentHashMap<>();

  @BeforeEach
  void renderFromTheCache() {
    metrics.renderFrom(
        () -> cache.values().stream(),
        e -> e.getSpec() == null ? Optional.empty() : Optional.of(Duration.ofMinutes(5)));
  }

  @Test
  void eachSourceGetsUpStateAndExpectationSeries() {
    put("mail", Reason.CONNECT_TIMEOUT);

    assertThat(gauge(EndpointMetrics.PORT_UP, "source", "zone-b")).isEqualTo(0.0);
    assertThat(gauge(EndpointMetrics.PORT_STATE, "state", "Blocked")).isEqualTo(1.0);
    assertThat(gauge(EndpointMetrics.PORT_STATE, "state", "Reachable")).isEqualTo(0.0);
    assertThat(gauge(EndpointMetrics.PORT_REASON, "reason", "ConnectTimeout")).isEqualTo(1.0);
    assertThat(gauge(EndpointMetrics.PORT_AS_EXPECTED, "expect", "Reachable")).isEqualTo(0.0);
    assertThat(gauge(EndpointMetrics.INTERVAL, "endpoint", "mail")).isEqualTo(300.0);
    assertThat(samples())
        .flatExtracting(s -> s.labelNames)
        .isSubsetOf(
            "namespace",
            "endpoint",
            "port",
            "mode",
            "source",
            "family",
            "state",
            "reason",
            "expect",
            "phase");
  }

  @Test
  void withEachFamilyTheFamiliesOfOneSourceAreTwoSeriesAndOtherEndpointsSayAny() {
    cache.put("dual", endpoint("dual", eachStatus(Reason.OK, Reason.CONNECT_TIMEOUT)));
    put("single", Reason.OK);

    assertThat(samples(EndpointMetrics.PORT_UP))
        .extracting(s -> label(s, "endpoint") + " " + label(s, "family") + " " + s.value)
        .containsExactlyInAnyOrder("dual IPv6 0.0", "dual IPv4 1.0", "single any 1.0");
    assertThat(samples(EndpointMetrics.PORT_REASON))
        .filteredOn(s -> label(s, "endpoint").equals("dual"))
        .extracting(s -> label(s, "family") + " " + label(s, "reason"))
        .containsExactlyInAnyOrder("IPv6 ConnectTimeout", "IPv4 Ok");
  }

  @Test
  void everySampleOfAFamilyHasTheSameLabelNames() {
    SmtpEndpoint dual = endpoint("dual", eachStatus(Reason.OK, Reason.CONNECT_TIMEOUT));
    withTls(dual.getStatus().ports.get(0).sources.get(0), "TLSv1.3", "TLS_AES_256_GCM_SHA384");
    cache.put("dual", dual);
    SmtpEndpoint single = endpoint("single", Reason.OK);
    withTls(single.getStatus().ports.get(0).sources.get(0), "TLSv1.2", "TLS_X");
    cache.put("single", single);

    for (var family : samples().stream().collect(Collectors.groupingBy(s -> s.name)).values()) {
      assertThat(family)
          .as(family.get(0).name)
          .extracting(s -> s.labelNames)
          .containsOnly(family.get(0).labelNames);
    }
  }

  @Test
  void theTlsVersionCipherAndCertificateOfEachSourceAndFamilyAreSeries() {
    SmtpEndpoint e = endpoint("mail", eachStatus(Reason.OK, Reason.OK));
    List<SourceStatus> sources = e.getStatus().ports.get(0).sources;
    withTls(sources.get(0), "TLSv1.3", "TLS_AES_256_GCM_SHA384").notAfter = "2026-12-01T00:00:00Z";
    withTls(sources.get(1), "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").notAfter =
        "2026-12-02T00:00:00Z";
    cache.put("mail", e);

    List<Sample> info = samples(EndpointMetrics.TLS_INFO);
    assertThat(info)
        .allSatisfy(
            s ->
                assertThat(s.labelNames)
                    .containsExactly(
                        "namespace",
                        "endpoint",
                        "port",
                        "mode",
                        "source",
                        "family",
                        "version",
                        "cipher"))
        .allSatisfy(s -> assertThat(s.value).isEqualTo(1.0));
    assertThat(info)
        .extracting(s -> s.labelValues)
        .containsExactly(
            List.of(
                "team",
                "mail",
                "587",
                "StartTLS",
                "zone-b",
                "IPv4",
                "TLSv1.3",
                "TLS_AES_256_GCM_SHA384"),
            List.of(
                "team",
                "mail",
                "587",
                "StartTLS",
                "zone-b",
                "IPv6",
                "TLSv1.2",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
    assertThat(samples(EndpointMetrics.CERT_NOT_AFTER))
        .extracting(s -> label(s, "source") + "/" + label(s, "family") + " " + (long) s.value)
        .containsExactly(
            "zone-b/IPv4 " + Instant.parse("2026-12-01T00:00:00Z").getEpochSecond(),
            "zone-b/IPv6 " + Instant.parse("2026-12-02T00:00:00Z").getEpochSecond());
  }

  @Test
  void theRouteWritesTheRegistrysMetersAndTheBuildThenEveryEndpointsSeries() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new BuildInfo("0.1.0").register(registry.getPrometheusRegistry());
    put("mail", Reason.OK);
    StringWriter text = new StringWriter();

    new MetricsRoute(registry, metrics).writeTo(text);

    assertThat(text.toString())
        .contains("\n" + BuildInfo.NAME + "{version=\"0.1.0\",} 1.0\n")
        .contains("\n" + EndpointMetrics.PORT_UP + "{namespace=\"team\",endpoint=\"mail\",");
  }

  @Test
  void aChangedStatusReplacesItsSeriesAndDeletionRemovesAll() {
    put("mail", Reason.CONNECT_TIMEOUT);
    put("mail", Reason.OK);
    metrics.roundFinished("team", "mail", StatusAggregator.RoundOutcome.Succeeded);

    assertThat(samples(EndpointMetrics.PORT_REASON))
        .singleElement()
        .satisfies(s -> assertThat(s.labelValues).endsWith("Ok"));
    assertThat(gauge(EndpointMetrics.PORT_UP, "source", "zone-b")).isEqualTo(1.0);
    assertThat(samples("smtp_reach_probe_rounds_total"))
        .singleElement()
        .satisfies(
            s -> assertThat(s.labelNames).containsExactly("namespace", "endpoint", "outcome"))
        .satisfies(s -> assertThat(s.labelValues).containsExactly("team", "mail", "Succeeded"))
        .satisfies(s -> assertThat(s.value).isEqualTo(1.0));
    put("other", Reason.OK);

    cache.remove("mail");

    assertThat(samples())
        .isNotEmpty()
        .allSatisfy(s -> assertThat(label(s, "endpoint")).isEqualTo("other"));
  }

  @Test
  void anInvalidSpecStillExposesItsConditionsButNoInterval() {
    SmtpEndpoint invalid = endpoint("broken", Reason.OK);
    invalid.setSpec(null);
    cache.put("broken", invalid);

    assertThat(samples(EndpointMetrics.INTERVAL)).isEmpty();
    assertThat(samples(EndpointMetrics.PROBES_RUNNING)).isNotEmpty();
  }

  @Test
  void aSweepForgetsTheRoundsOfEndpointsThatNoLongerExist() {
    put("kept", Reason.OK);
    metrics.roundFinished("team", "kept", StatusAggregator.RoundOutcome.Failed);
    metrics.roundFinished("team", "deleted", StatusAggregator.RoundOutcome.Failed);

    metrics.retainOnly((namespace, name) -> name.equals("kept"));
    put("deleted", Reason.OK);

    assertThat(samples("smtp_reach_probe_rounds_total"))
        .singleElement()
        .satisfies(s -> assertThat(label(s, "endpoint")).isEqualTo("kept"));
  }

  @Test
  void oneMalformedStatusCostsOnlyItsOwnSeriesAndSaysSo() {
    put("good", Reason.OK);
    SmtpEndpoint bad = endpoint("bad", Reason.OK);
    bad.getStatus().lastSuccessfulProbeTime = "yesterday";
    bad.getStatus().ports.get(0).sources.get(0).reason = null;
    cache.put("bad", bad);
    SmtpEndpoint noSources = endpoint("no-sources", Reason.OK);
    noSources.getStatus().ports.get(0).sources = null;
    cache.put("no-sources", noSources);

    assertThat(gauge(EndpointMetrics.PORT_UP, "endpoint", "good")).isEqualTo(1.0);
    assertThat(samples(EndpointMetrics.PORT_UP))
        .extracting(s -> label(s, "endpoint"))
        .containsExactly("good");
    assertThat(samples(EndpointMetrics.STATUS_UNREADABLE))
        .extracting(s -> label(s, "endpoint"))
        .containsExactlyInAnyOrder("bad", "no-sources");
  }

  @Test
  void theExpositionHasOneHelpAndTypeLinePerFamily() throws Exception {
    put("mail", Reason.OK);
    metrics.roundFinished("team", "mail", StatusAggregator.RoundOutcome.Succeeded);
    String text = Exposition.of(metrics).text();

    assertThat(text)
        .contains("# TYPE smtp_reach_port_up gauge\n")
        .contains("# TYPE smtp_reach_probe_rounds_total counter\n")
        .contains(
            "smtp_reach_probe_rounds_total{namespace=\"team\",endpoint=\"mail\",outcome=\"Succeeded\",} 1.0");
    assertThat(text.lines().filter(l -> l.startsWith("# TYPE smtp_reach_port_up "))).hasSize(1);
  }

  private static PortStatus.TlsFacts withTls(SourceStatus s, String version, String cipher) {
    s.tlsFacts = new PortStatus.TlsFacts();
    s.tlsFacts.version = version;
    s.tlsFacts.cipher = cipher;
    return s.tlsFacts;
  }

  /** Port 587 from zone-b, probed over IPv4 and IPv6 apart. */
  private static io.smtpreach.api.SmtpEndpointStatus eachStatus(Reason v4, Reason v6) {
    Instant t = Instant.parse("2026-11-24T10:00:00Z");
    ProbeReport report =
        new ProbeReport(
            "h",
            false,
            t,
            List.of(
                ProbeResult.builder("h", P587, IpFamily.V4).build(v4, v4.displayName()),
                ProbeResult.builder("h", P587, IpFamily.V6).build(v6, v6.displayName())));
    return StatusAggregator.afterRound(
            null,
            List.of(P587),
            IpFamily.EACH,
            List.of(SourceOutcome.ran("zone-b", "node-b", report)),
            1,
            t,
            t)
        .status();
  }

  private void put(String name, Reason reason) {
    cache.put(name, endpoint(name, reason));
  }

  private static SmtpEndpoint endpoint(String name, Reason reason) {
    return endpoint(name, status(reason));
  }

  private static SmtpEndpoint endpoint(String name, io.smtpreach.api.SmtpEndpointStatus status) {
    SmtpEndpoint e = new SmtpEndpoint();
    e.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName(name).build());
    e.setSpec(new io.smtpreach.api.SmtpEndpointSpec());
    e.setStatus(status);
    return e;
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
            IpFamily.ANY,
            List.of(
                SourceOutcome.ran("zone-b", "node-b", new ProbeReport("h", false, t, List.of(r)))),
            1,
            t,
            t)
        .status();
  }

  private List<Sample> samples() {
    return Exposition.of(metrics).samples();
  }

  private List<Sample> samples(String name) {
    return samples().stream().filter(s -> s.name.equals(name)).toList();
  }

  private double gauge(String name, String label, String value) {
    return samples(name).stream()
        .filter(s -> value.equals(label(s, label)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " with " + label + "=" + value))
        .value;
  }

  private static String label(Sample s, String name) {
    int i = s.labelNames.indexOf(name);
    return i < 0 ? null : s.labelValues.get(i);
  }
}
