package io.smtpreach.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.Expectation;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsFacts;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a finished round becomes the next status: states, since, conditions, changes. */
class StatusAggregatorTest {
  private static final ProbeTarget P587 = new ProbeTarget(587, TlsMode.STARTTLS);
  private static final ProbeTarget P465 = new ProbeTarget(465, TlsMode.IMPLICIT);
  private static final ProbeTarget P25 = new ProbeTarget(25, TlsMode.AUTO, Expectation.BLOCKED);
  private static final List<ProbeTarget> TARGETS = List.of(P587, P465, P25);
  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
  private static final Instant T1 = T0.plus(Duration.ofMinutes(5));
  private static final IpFamily V4 = IpFamily.V4;
  private static final IpFamily V6 = IpFamily.V6;

  @Test
  void aFirstRoundSetsEveryPortAndSource() {
    var r =
        round(
            null,
            T0,
            ran("zone-a", ok(P587), ok(P465), result(P25, Reason.CONNECT_TIMEOUT)),
            ran(
                "zone-b",
                result(P587, Reason.CONNECT_TIMEOUT),
                ok(P465),
                result(P25, Reason.CONNECTION_REFUSED)));
    SmtpEndpointStatus s = r.status();

    PortStatus p587 = s.ports.get(0);
    assertThat(p587.state).isEqualTo("Blocked");
    assertThat(p587.source).isEqualTo("zone-b");
    assertThat(p587.asExpected).isFalse();
    assertThat(p587.sources).extracting(x -> x.name).containsExactly("zone-b", "zone-a");
    assertThat(s.ports.get(2).asExpected).as("25 blocked as expected from both").isTrue();
    assertThat(s.recommended).isEqualTo("465/Implicit");
    assertThat(s.summary)
        .isEqualTo("587 Blocked from zone-b, 465 Reachable, 25 Blocked from zone-a");
    assertThat(condition(s, ConditionTypes.READY)).isEqualTo("False/PortsNotAsExpected");
    assertThat(message(s, ConditionTypes.READY))
        .isEqualTo("587/StartTLS is Blocked from zone-b (expected Reachable)");
    assertThat(condition(s, ConditionTypes.SECURE_SUBMISSION_AVAILABLE))
        .isEqualTo("True/SecurePortReachable");
    assertThat(condition(s, ConditionTypes.PROBES_RUNNING)).isEqualTo("True/RoundSucceeded");
    assertThat(s.lastProbeTime).isEqualTo("2026-11-24T10:00:00Z");
    assertThat(s.lastSuccessfulProbeTime).isEqualTo(s.lastProbeTime);
    assertThat(r.changes()).hasSize(6);
    assertThat(r.outcome()).isEqualTo(StatusAggregator.RoundOutcome.Succeeded);
  }

  @Test
  void sinceAndTransitionTimesMoveOnlyWhenSomethingChanges() {
    SmtpEndpointStatus first =
        round(null, T0, ran("any", ok(P587), ok(P465), blocked25())).status();
    var second =
        round(first, T1, ran("any", ok(P587), result(P465, Reason.CERT_EXPIRED), blocked25()));

    SmtpEndpointStatus s = second.status();
    assertThat(s.ports.get(0).since).isEqualTo(first.ports.get(0).since);
    assertThat(s.ports.get(1).since).isEqualTo(StatusAggregator.timestamp(T1.plusSeconds(1)));
    assertThat(second.changes())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.eventReason()).isEqualTo("PortTlsFailure");
              assertThat(c.eventMessage())
                  .startsWith("465/Implicit is now TlsFailure (was Reachable): ");
              assertThat(c.asExpected()).isFalse();
            });
    assertThat(transition(s, ConditionTypes.PROBES_RUNNING))
        .isEqualTo(transition(first, ConditionTypes.PROBES_RUNNING));
    assertThat(transition(s, ConditionTypes.READY))
        .isNotEqualTo(transition(first, ConditionTypes.READY));
  }

  @Test
  void aSourceThatCouldNotRunKeepsItsLastStateAndSaysWhy() {
    SmtpEndpointStatus first =
        round(
                null,
                T0,
                ran("zone-a", ok(P587), ok(P465), blocked25()),
                ran("zone-b", ok(P587), ok(P465), blocked25()))
            .status();
    var second =
        round(
            first,
            T1,
            ran("zone-a", ok(P587), ok(P465), blocked25()),
            SourceOutcome.failed(
                "zone-b", null, ProbeRunFailure.PodUnschedulable, "0/3 nodes are available"));

    SmtpEndpointStatus s = second.status();
    assertThat(s.ports).allSatisfy(p -> assertThat(p.sources).hasSize(2));
    assertThat(s.ports.get(0).state).isEqualTo("Reachable");
    assertThat(second.changes()).isEmpty();
    assertThat(condition(s, ConditionTypes.PROBES_RUNNING)).isEqualTo("False/PodUnschedulable");
    assertThat(message(s, ConditionTypes.PROBES_RUNNING))
        .isEqualTo(
            "1 of 2 probe pods did not run: zone-b: PodUnschedulable (0/3 nodes are available)");
    assertThat(s.lastProbeTime).isEqualTo(StatusAggregator.timestamp(T1));
    assertThat(s.lastSuccessfulProbeTime).isEqualTo(StatusAggregator.timestamp(T0));
    assertThat(second.outcome()).isEqualTo(StatusAggregator.RoundOutcome.Partial);
  }

  @Test
  void aRoundThatRanNowhereChangesNoPortAndIsNotASuccess() {
    SmtpEndpointStatus first =
        round(null, T0, ran("any", ok(P587), ok(P465), blocked25())).status();
    var second =
        round(
            first,
            T1,
            SourceOutcome.failed("any", null, ProbeRunFailure.ImagePullFailed, "ErrImagePull"));

    assertThat(second.status().ports)
        .usingRecursiveFieldByFieldElementComparator()
        .isEqualTo(first.ports);
    assertThat(second.status().lastProbeTime).isEqualTo(first.lastProbeTime);
    assertThat(second.outcome()).isEqualTo(StatusAggregator.RoundOutcome.Failed);
    assertThat(condition(second.status(), ConditionTypes.READY))
        .isEqualTo("True/AllPortsAsExpected");
  }

  @Test
  void aRoundThatCouldNotStartKeepsEverySourcesStateWhateverItsPlacement() {
    SmtpEndpointStatus first =
        round(
                null,
                T0,
                ran("zone-a", ok(P587), ok(P465), blocked25()),
                ran("zone-b", result(P587, Reason.CONNECT_TIMEOUT), ok(P465), blocked25()))
            .status();

    SmtpEndpointStatus s =
        StatusAggregator.roundNotStarted(
            first,
            TARGETS,
            ProbeRunFailure.NoEligibleNodes,
            "no Ready node matches the placement",
            1L,
            T1);

    assertThat(s.ports).usingRecursiveFieldByFieldElementComparator().isEqualTo(first.ports);
    assertThat(s.ports.get(0).state)
        .as("587 stays Blocked: no false all-clear")
        .isEqualTo("Blocked");
    assertThat(condition(s, ConditionTypes.PROBES_RUNNING)).isEqualTo("False/NoEligibleNodes");
    assertThat(condition(s, ConditionTypes.READY))
        .isEqualTo(condition(first, ConditionTypes.READY));
  }

  @Test
  void theRecommendationNeedsTlsFromEverySourceAndAutoCountsForWhatItNegotiated() {
    ProbeTarget auto2525 = new ProbeTarget(2525, TlsMode.AUTO);
    ProbeResult plain =
        ProbeResult.builder("h", auto2525, IpFamily.ANY)
            .negotiated(TlsMode.NONE)
            .build(Reason.OK, "plaintext");
    SmtpEndpointStatus s =
        StatusAggregator.afterRound(
                null,
                List.of(P587, auto2525),
                IpFamily.ANY,
                List.of(
                    ran("zone-a", ok(P587), plain),
                    ran("zone-b", result(P587, Reason.STARTTLS_NOT_OFFERED), plain)),
                1,
                T0,
                T0)
            .status();
    assertThat(s.recommended).isEqualTo("None");
    assertThat(condition(s, ConditionTypes.SECURE_SUBMISSION_AVAILABLE))
        .isEqualTo("False/NoSecureSubmissionPort");
  }

  @Test
  void sourcesAreBoundedAndCounted() {
    List<SourceOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < StatusAggregator.MAX_SOURCES + 5; i++) {
      outcomes.add(ran("node-" + (100 + i), ok(P587)));
    }
    SmtpEndpointStatus s =
        StatusAggregator.afterRound(null, List.of(P587), IpFamily.ANY, outcomes, 1, T0, T0)
            .status();
    assertThat(s.ports.get(0).sources).hasSize(StatusAggregator.MAX_SOURCES);
    assertThat(s.ports.get(0).sourcesOmitted).isEqualTo(5);
    assertThat(s.recommended).as("judged on every source, listed or not").isEqualTo("587/StartTLS");
  }

  @Test
  void inMxModeTheFirstReachableHostDecides() {
    ProbeTarget mx = new ProbeTarget(25, TlsMode.AUTO);
    ProbeResult down =
        ProbeResult.builder("mx1.example", mx, IpFamily.ANY)
            .build(Reason.CONNECT_TIMEOUT, "dropped");
    ProbeResult up =
        ProbeResult.builder("mx2.example", mx, IpFamily.ANY)
            .negotiated(TlsMode.STARTTLS)
            .build(Reason.OK, "ok");
    SourceOutcome o =
        SourceOutcome.ran("any", "n", new ProbeReport("example", true, T0, List.of(down, up)));
    assertThat(StatusAggregator.verdicts(o, mx, IpFamily.ANY))
        .containsExactly(new StatusAggregator.Verdict(null, up));
  }

  @Test
  void tlsFactsAndTimingsAreKeptPerSource() {
    CertificateFacts cert =
        new CertificateFacts("CN=smtp.test", "CN=ca", List.of(), T0, T0.plus(Duration.ofDays(20)));
    ProbeResult r =
        ProbeResult.builder("h", P465, IpFamily.ANY)
            .negotiated(TlsMode.IMPLICIT)
            .tls(new TlsFacts("TLSv1.3", "TLS_AES_128_GCM_SHA256", cert))
            .timing(Phase.CONNECT, Duration.ofMillis(12))
            .timing(Phase.TOTAL, Duration.ofMillis(140))
            .build(Reason.OK, "implicit TLS");
    PortStatus p =
        StatusAggregator.afterRound(
                null, List.of(P465), IpFamily.ANY, List.of(ran("any", r)), 1, T0, T0)
            .status()
            .ports
            .get(0);
    assertThat(p.sources.get(0).tlsFacts)
        .extracting(t -> t.version, t -> t.cipher, t -> t.subject, t -> t.notAfter)
        .containsExactly(
            "TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=smtp.test", "2026-12-14T10:00:00Z");
    assertThat(p.sources.get(0).timings.connect).isEqualTo(12L);
    assertThat(p.tlsFacts.version).isEqualTo("TLSv1.3");
    assertThat(p.tlsFacts.notAfter).isEqualTo("2026-12-14T10:00:00Z");
  }

  @Test
  void withEachFamilyEachFamilyOfASourceIsItsOwnEntryWithItsOwnSinceAndEvent() {
    SmtpEndpointStatus first = each(null, T0, ran("zone-a", ok(P587, V4), ok(P587, V6))).status();
    var second =
        each(first, T1, ran("zone-a", ok(P587, V4), result(P587, V6, Reason.CONNECT_TIMEOUT)));

    PortStatus p = second.status().ports.get(0);
    assertThat(p.sources)
        .extracting(x -> x.name + "/" + x.family + " " + x.state)
        .containsExactly("zone-a/IPv6 Blocked", "zone-a/IPv4 Reachable");
    assertThat(p.sources.get(1).since)
        .as("IPv4 did not change")
        .isEqualTo(first.ports.get(0).since);
    assertThat(p.sources.get(0).since).isEqualTo(StatusAggregator.timestamp(T1.plusSeconds(1)));
    assertThat(p.state).as("the worst entry").isEqualTo("Blocked");
    assertThat(p.source).isEqualTo("zone-a");
    assertThat(p.asExpected).isFalse();
    assertThat(second.status().summary).isEqualTo("587 Blocked from zone-a/IPv6");
    assertThat(message(second.status(), ConditionTypes.READY))
        .isEqualTo("587/StartTLS is Blocked from zone-a/IPv6 (expected Reachable)");
    assertThat(second.changes())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.source()).isEqualTo("zone-a");
              assertThat(c.family()).isEqualTo("IPv6");
              assertThat(c.eventMessage())
                  .isEqualTo(
                      "587/StartTLS from zone-a over IPv6 is now Blocked (was Reachable): "
                          + "ConnectTimeout");
            });
  }

  @Test
  void withEachFamilyTheSummaryNamesTheFamilyOnlyWhereItMatters() {
    var oneFamily =
        each(null, T0, ran("any", ok(P587, V4), result(P587, V6, Reason.CONNECT_TIMEOUT)));
    assertThat(oneFamily.status().summary).isEqualTo("587 Blocked from any/IPv6");
    assertThat(oneFamily.changes())
        .extracting(PortChange::eventMessage)
        .containsExactlyInAnyOrder(
            "587/StartTLS over IPv6 is now Blocked: ConnectTimeout",
            "587/StartTLS over IPv4 is now Reachable: ok");

    var bothFamilies =
        each(
            null,
            T0,
            ran(
                "zone-a",
                result(P587, V4, Reason.CONNECT_TIMEOUT),
                result(P587, V6, Reason.CONNECT_TIMEOUT)),
            ran("zone-b", ok(P587, V4), result(P587, V6, Reason.CONNECT_TIMEOUT)));
    assertThat(bothFamilies.status().summary).isEqualTo("587 Blocked from zone-a,zone-b/IPv6");
    assertThat(each(null, T0, ran("any", ok(P587, V4), ok(P587, V6))).status().summary)
        .isEqualTo("587 Reachable");
  }

  @Test
  void withEachFamilyASourceThatDidNotRunKeepsEveryFamilysEntry() {
    SmtpEndpointStatus first =
        each(
                null,
                T0,
                ran("zone-a", ok(P587, V4), ok(P587, V6)),
                ran("zone-b", ok(P587, V4), result(P587, V6, Reason.CONNECT_TIMEOUT)))
            .status();
    var second =
        each(
            first,
            T1,
            ran("zone-a", ok(P587, V4), ok(P587, V6)),
            SourceOutcome.failed("zone-b", null, ProbeRunFailure.PodUnschedulable, "no node"));

    assertThat(second.status().ports.get(0).sources)
        .usingRecursiveFieldByFieldElementComparator()
        .containsAll(
            first.ports.get(0).sources.stream().filter(x -> x.name.equals("zone-b")).toList());
    assertThat(second.status().ports.get(0).sources).hasSize(4);
    assertThat(second.status().summary).isEqualTo("587 Blocked from zone-b/IPv6");
    assertThat(second.changes()).isEmpty();
  }

  @Test
  void withEachFamilyAFamilyWithoutAResultKeepsItsEntryAndAnotherIpFamilyStartsAfresh() {
    SmtpEndpointStatus first =
        each(null, T0, ran("any", ok(P587, V4), result(P587, V6, Reason.CONNECT_TIMEOUT))).status();

    SmtpEndpointStatus onlyV4 = each(first, T1, ran("any", ok(P587, V4))).status();
    assertThat(onlyV4.ports.get(0).sources)
        .extracting(x -> x.family + " " + x.state)
        .containsExactly("IPv6 Blocked", "IPv4 Reachable");

    SmtpEndpointStatus any =
        StatusAggregator.afterRound(
                onlyV4, List.of(P587), IpFamily.ANY, List.of(ran("any", ok(P587))), 1, T1, T1)
            .status();
    assertThat(any.ports.get(0).sources)
        .singleElement()
        .satisfies(x -> assertThat(x.family).isNull())
        .satisfies(x -> assertThat(x.state).isEqualTo("Reachable"));
  }

  @Test
  void withEachFamilyInMxModeTheFirstReachableHostDecidesPerFamily() {
    ProbeTarget mx = new ProbeTarget(25, TlsMode.AUTO);
    ProbeResult up4 =
        ProbeResult.builder("mx2.example", mx, V4)
            .negotiated(TlsMode.STARTTLS)
            .build(Reason.OK, "ok");
    SourceOutcome o =
        SourceOutcome.ran(
            "any",
            "n",
            new ProbeReport(
                "example",
                true,
                T0,
                List.of(
                    ProbeResult.builder("mx1.example", mx, V4)
                        .build(Reason.CONNECT_TIMEOUT, "dropped"),
                    ProbeResult.builder("mx1.example", mx, V6)
                        .build(Reason.CONNECT_TIMEOUT, "dropped"),
                    up4,
                    ProbeResult.builder("mx2.example", mx, V6)
                        .build(Reason.NO_ADDRESS, "no AAAA"))));

    assertThat(StatusAggregator.verdicts(o, mx, IpFamily.EACH))
        .extracting(v -> v.family() + " " + v.result().reason().displayName())
        .containsExactly("IPv4 Ok", "IPv6 ConnectTimeout");
  }

  @Test
  void withEachFamilyEachEntryHasTheTlsFactsItsFamilySaw() {
    CertificateFacts real =
        new CertificateFacts("CN=smtp.test", "CN=ca", List.of(), T0, T0.plus(Duration.ofDays(20)));
    CertificateFacts intercepted =
        new CertificateFacts(
            "CN=smtp.test", "CN=proxy", List.of(), T0, T0.plus(Duration.ofDays(2)));
    ProbeResult v4 =
        ProbeResult.builder("h", P587, V4)
            .negotiated(TlsMode.STARTTLS)
            .tls(new TlsFacts("TLSv1.3", "TLS_AES_128_GCM_SHA256", real))
            .build(Reason.OK, "ok");
    ProbeResult v6 =
        ProbeResult.builder("h", P587, V6)
            .negotiated(TlsMode.STARTTLS)
            .tls(new TlsFacts("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", intercepted))
            .build(Reason.OK, "ok");

    PortStatus p = each(null, T0, ran("zone-a", v4, v6)).status().ports.get(0);

    assertThat(p.sources)
        .extracting(
            x ->
                x.family
                    + " "
                    + x.tlsFacts.version
                    + " "
                    + x.tlsFacts.issuer
                    + " "
                    + x.tlsFacts.notAfter)
        .containsExactly(
            "IPv4 TLSv1.3 CN=ca 2026-12-14T10:00:00Z",
            "IPv6 TLSv1.2 CN=proxy 2026-11-26T10:00:00Z");
  }

  // --- helpers ---

  private static StatusAggregator.Result round(
      SmtpEndpointStatus previous, Instant start, SourceOutcome... outcomes) {
    return StatusAggregator.afterRound(
        previous, TARGETS, IpFamily.ANY, List.of(outcomes), 1, start, start.plusSeconds(1));
  }

  private static SourceOutcome ran(String source, ProbeResult... results) {
    return SourceOutcome.ran(
        source, "node-of-" + source, new ProbeReport("h", false, T0, List.of(results)));
  }

  private static ProbeResult ok(ProbeTarget t) {
    return ProbeResult.builder("h", t, IpFamily.ANY)
        .negotiated(t.mode() == TlsMode.AUTO ? TlsMode.STARTTLS : t.mode())
        .build(Reason.OK, "ok");
  }

  private static StatusAggregator.Result each(
      SmtpEndpointStatus previous, Instant start, SourceOutcome... outcomes) {
    return StatusAggregator.afterRound(
        previous, List.of(P587), IpFamily.EACH, List.of(outcomes), 1, start, start.plusSeconds(1));
  }

  private static ProbeResult ok(ProbeTarget t, IpFamily family) {
    return ProbeResult.builder("h", t, family).negotiated(t.mode()).build(Reason.OK, "ok");
  }

  private static ProbeResult result(ProbeTarget t, IpFamily family, Reason reason) {
    return ProbeResult.builder("h", t, family).build(reason, reason.displayName());
  }

  private static ProbeResult blocked25() {
    return result(P25, Reason.CONNECT_TIMEOUT);
  }

  private static ProbeResult result(ProbeTarget t, Reason reason) {
    return ProbeResult.builder("h", t, IpFamily.ANY).build(reason, reason.displayName());
  }

  private static String condition(SmtpEndpointStatus s, String type) {
    return Conditions.find(s.conditions, type)
        .map(c -> c.getStatus() + "/" + c.getReason())
        .orElse("absent");
  }

  private static String message(SmtpEndpointStatus s, String type) {
    return Conditions.find(s.conditions, type).orElseThrow().getMessage();
  }

  private static String transition(SmtpEndpointStatus s, String type) {
    return Conditions.find(s.conditions, type).orElseThrow().getLastTransitionTime();
  }
}
