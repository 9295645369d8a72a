package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportCodecTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:15:30Z");

  static ProbeResult reachable(int port, TlsMode mode, String filler) {
    return new ProbeResult(
        "smtp.example.com",
        new ProbeTarget(port, mode),
        IpFamily.ANY,
        Reason.OK,
        "STARTTLS" + filler,
        List.of("192.0.2.10", "2001:db8::10"),
        "192.0.2.10",
        mode,
        Map.of(
            Phase.DNS,
            Duration.ofMillis(3),
            Phase.CONNECT,
            Duration.ofMillis(12),
            Phase.TOTAL,
            Duration.ofMillis(80)),
        "220 smtp.example.com ESMTP" + filler,
        List.of("PIPELINING", "SIZE 10240000", "STARTTLS" + filler),
        List.of("PIPELINING", "AUTH PLAIN LOGIN" + filler),
        List.of("PLAIN", "LOGIN"),
        new TlsFacts(
            "TLSv1.3",
            "TLS_AES_256_GCM_SHA384",
            new CertificateFacts(
                "CN=smtp.example.com" + filler,
                "CN=Example CA,O=Example" + filler,
                List.of("DNS:smtp.example.com" + filler),
                AT.minus(30, ChronoUnit.DAYS),
                AT.plus(60, ChronoUnit.DAYS))),
        true);
  }

  @Test
  void roundTripsEveryFact() throws Exception {
    ProbeReport report =
        new ProbeReport(
            "smtp.example.com",
            false,
            AT,
            List.of(reachable(587, TlsMode.STARTTLS, ""), reachable(465, TlsMode.IMPLICIT, "")));
    ProbeReport decoded = ReportCodec.decode(ReportCodec.encode(report));
    assertThat(decoded).isEqualTo(report);
    assertThat(decoded.recommended()).contains(new ProbeTarget(587, TlsMode.STARTTLS));
  }

  @Test
  void aSmallReportFitsTheTerminationMessageWhole() throws Exception {
    ProbeReport report =
        new ProbeReport(
            "smtp.example.com", false, AT, List.of(reachable(587, TlsMode.STARTTLS, "")));
    assertThat(
            ReportCodec.decode(ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT)))
        .isEqualTo(report);
  }

  @Test
  void aHugeReportIsCutToTheBoundLeastImportantFactsFirst() throws Exception {
    String filler = " " + "é".repeat(400);
    List<ProbeResult> results = new ArrayList<>();
    for (int port = 1; port <= 4; port++) {
      results.add(reachable(port, TlsMode.STARTTLS, filler));
    }
    ProbeReport report = new ProbeReport("smtp.example.com", false, AT, results);
    String json = ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT);

    assertThat(json.getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(ReportCodec.TERMINATION_MESSAGE_LIMIT);
    ProbeReport decoded = ReportCodec.decode(json);
    assertThat(decoded.truncated()).isZero();
    assertThat(decoded.results())
        .hasSize(4)
        .allSatisfy(
            r -> {
              assertThat(r.reason()).isEqualTo(Reason.OK);
              assertThat(r.capabilities()).as("capabilities go first").isEmpty();
              assertThat(r.tls().certificate().notAfter())
                  .as("expiry is kept")
                  .isEqualTo(AT.plus(60, ChronoUnit.DAYS));
              assertThat(r.tls().protocol()).isEqualTo("TLSv1.3");
            });
  }

  @Test
  void whenEvenStatesDoNotFitTheLastResultsAreCountedAsTruncated() throws Exception {
    List<ProbeResult> results = new ArrayList<>();
    for (int port = 1; port <= 200; port++) {
      results.add(reachable(port, TlsMode.STARTTLS, ""));
    }
    String json = ReportCodec.encode(new ProbeReport("smtp.example.com", false, AT, results), 4096);
    assertThat(json.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096);
    ProbeReport decoded = ReportCodec.decode(json);
    assertThat(decoded.results().size() + decoded.truncated()).isEqualTo(200);
    assertThat(decoded.results().get(0).target().port()).isEqualTo(1);
  }

  @Test
  void refusesWhatIsNotAVersionOneReport() {
    assertThatThrownBy(() -> ReportCodec.decode("")).hasMessageContaining("empty");
    assertThatThrownBy(() -> ReportCodec.decode("not json")).hasMessageContaining("not JSON");
    assertThatThrownBy(() -> ReportCodec.decode("[]")).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> ReportCodec.decode("{\"v\":2}"))
        .hasMessageContaining("unsupported result version");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    "{\"v\":1,\"subject\":\"h\",\"at\":\"2026-11-23T10:15:30Z\",\"results\":[{\"port\":587,\"mode\":\"StartTLS\",\"expect\":\"Reachable\",\"reason\":\"Sunny\"}]}"))
        .isInstanceOf(MalformedReportException.class)
        .hasMessageContaining("unknown reason 'Sunny'");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    "{\"v\":1,\"subject\":\"h\",\"at\":\"2026-11-23T10:15:30Z\",\"results\":[{\"port\":0,\"mode\":\"StartTLS\",\"expect\":\"Reachable\",\"reason\":\"Ok\"}]}"))
        .hasMessageContaining("'port' must be a whole number from 1 to 65535");
  }
}
