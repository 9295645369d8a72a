package io.smtpreach.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.api.EgressStatus;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.probe.EgressFacts;
import io.smtpreach.probe.EgressFacts.Dnsbl;
import io.smtpreach.probe.EgressFacts.SeenBy;
import io.smtpreach.probe.EgressFacts.Verdict;
import io.smtpreach.probe.Expectation;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Given sources whose reports carry egress facts, when the round finishes, then the status keeps
 * one egress entry per source, and the changes people act on (a new address, a listing that appears
 * or clears) become Events; unknown is never a change.
 */
class EgressAggregationTest {
  private static final ProbeTarget P25 = new ProbeTarget(25, TlsMode.AUTO, Expectation.ANY);
  private static final Instant T0 = Instant.parse("2026-11-24T10:00:00Z");
  private static final Instant T1 = T0.plus(Duration.ofMinutes(5));
  private static final String NAT = "203.0.113.5";

  private static EgressFacts egress(String address, Dnsbl... lists) {
    return new EgressFacts(address, SeenBy.SERVER, "10.0.0.7", "out.example", true, List.of(lists));
  }

  private static SourceOutcome ran(String source, EgressFacts egress) {
    ProbeResult r =
        ProbeResult.builder("h", P25, IpFamily.ANY)
            .negotiated(TlsMode.STARTTLS)
            .build(Reason.OK, "ok");
    return SourceOutcome.ran(
        source, "node-of-" + source, new ProbeReport("h", false, T0, List.of(r), 0, egress));
  }

  private static StatusAggregator.Result round(
      SmtpEndpointStatus previous, Instant at, SourceOutcome... outcomes) {
    return StatusAggregator.afterRound(
        previous, List.of(P25), IpFamily.ANY, List.of(outcomes), 1, at, at);
  }

  @Test
  void eachSourceGetsItsEgressAndAFirstSightingIsNoChange() {
    var r =
        round(
            null,
            T0,
            ran(
                "zone-b",
                egress("198.51.100.9", new Dnsbl("bl.example", Verdict.NOT_LISTED, null))),
            ran("zone-a", egress(NAT)));
    assertThat(r.status().egress).extracting(e -> e.source).containsExactly("zone-a", "zone-b");
    EgressStatus b = r.status().egress.get(1);
    assertThat(b.address).isEqualTo("198.51.100.9");
    assertThat(b.seenBy).isEqualTo("Server");
    assertThat(b.ptr).isEqualTo("out.example");
    assertThat(b.ptrConfirmed).isTrue();
    assertThat(b.listedOn).isEmpty();
    assertThat(b.lists)
        .extracting(l -> l.name + "=" + l.verdict)
        .containsExactly("bl.example=NotListed");
    assertThat(b.node).isEqualTo("node-of-zone-b");
    assertThat(b.since).isEqualTo("2026-11-24T10:00:00Z");
    assertThat(r.egressChanges()).isEmpty();
  }

  @Test
  void aProbePodsOwnAddressChangingEveryRoundIsNoEvent() {
    // No server echoed: the address is the pod's own, new with every probe pod (or agent).
    EgressFacts first =
        new EgressFacts("10.0.0.7", SeenBy.LOCAL, "10.0.0.7", null, null, List.of());
    EgressFacts next = new EgressFacts("10.0.0.9", SeenBy.LOCAL, "10.0.0.9", null, null, List.of());
    SmtpEndpointStatus s = round(null, T0, ran("zone-a", first)).status();

    var r = round(s, T1, ran("zone-a", next));

    assertThat(r.status().egress.get(0).address).isEqualTo("10.0.0.9");
    assertThat(r.egressChanges()).isEmpty();
  }

  @Test
  void aNewAddressIsAWarningAndRestartsSince() {
    SmtpEndpointStatus first = round(null, T0, ran("zone-a", egress(NAT))).status();
    var r = round(first, T1, ran("zone-a", egress("198.51.100.9")));
    assertThat(r.status().egress.get(0).since).isEqualTo("2026-11-24T10:05:00Z");
    assertThat(r.egressChanges())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.eventReason()).isEqualTo("EgressAddressChanged");
              assertThat(c.kind().warning).isTrue();
              assertThat(c.eventMessage())
                  .startsWith(
                      "egress from zone-a: the address servers see changed from 203.0.113.5 to"
                          + " 198.51.100.9");
            });
    var same = round(r.status(), T1.plusSeconds(300), ran("zone-a", egress("198.51.100.9")));
    assertThat(same.egressChanges()).isEmpty();
    assertThat(same.status().egress.get(0).since).isEqualTo("2026-11-24T10:05:00Z");
  }

  @Test
  void aServerThatStopsEchoingChangesWhatIsKnownNotTheAddress() {
    SmtpEndpointStatus first = round(null, T0, ran("any", egress(NAT))).status();
    EgressFacts local =
        new EgressFacts("10.0.0.7", SeenBy.LOCAL, "10.0.0.7", null, null, List.of());
    var r = round(first, T1, ran("any", local));
    assertThat(r.status().egress.get(0).seenBy).isEqualTo("Local");
    assertThat(r.egressChanges()).isEmpty();
  }

  @Test
  void aListingThatAppearsIsAWarningAndOneThatClearsIsNormal() {
    SmtpEndpointStatus clean =
        round(null, T0, ran("any", egress(NAT, new Dnsbl("bl.example", Verdict.NOT_LISTED, null))))
            .status();
    var listed =
        round(
            clean,
            T1,
            ran("any", egress(NAT, new Dnsbl("bl.example", Verdict.LISTED, "spam seen"))));
    assertThat(listed.status().egress.get(0).listedOn).containsExactly("bl.example");
    assertThat(listed.egressChanges())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.eventReason()).isEqualTo("EgressAddressListed");
              assertThat(c.eventMessage())
                  .isEqualTo("egress: 203.0.113.5 is listed on bl.example: spam seen");
            });

    var unknown =
        round(
            listed.status(),
            T1.plusSeconds(300),
            ran("any", egress(NAT, new Dnsbl("bl.example", Verdict.LOOKUP_FAILED, "timed out"))));
    assertThat(unknown.egressChanges()).as("no verdict is not a delisting").isEmpty();

    var cleared =
        round(
            listed.status(),
            T1.plusSeconds(300),
            ran("any", egress(NAT, new Dnsbl("bl.example", Verdict.NOT_LISTED, null))));
    assertThat(cleared.egressChanges())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.eventReason()).isEqualTo("EgressAddressDelisted");
              assertThat(c.kind().warning).isFalse();
            });
  }

  @Test
  void aListErrorIsNoListing() {
    var r =
        round(
            null,
            T0,
            ran(
                "any",
                egress(
                    NAT,
                    new Dnsbl("bl.example", Verdict.LIST_ERROR, "list error 127.255.255.254"))));
    assertThat(r.status().egress.get(0).listedOn).isEmpty();
    assertThat(r.status().egress.get(0).lists.get(0).verdict).isEqualTo("ListError");
    assertThat(r.egressChanges()).isEmpty();
  }

  @Test
  void aSourceThatDidNotRunOrHadNoEgressKeepsWhatWasKnown() {
    SmtpEndpointStatus first =
        round(null, T0, ran("zone-a", egress(NAT)), ran("zone-b", egress("198.51.100.9"))).status();
    var r =
        round(
            first,
            T1,
            ran("zone-a", null),
            SourceOutcome.failed("zone-b", null, ProbeRunFailure.ProbeCrashed, "oom"));
    assertThat(r.status().egress)
        .extracting(e -> e.source + "=" + e.address)
        .containsExactly("zone-a=" + NAT, "zone-b=198.51.100.9");
    assertThat(r.egressChanges()).isEmpty();
  }

  @Test
  void port25BlockedOnACloudThatBlocksItByPolicySaysSoAndSuggests587() {
    ProbeResult blocked =
        ProbeResult.builder("h", P25, IpFamily.ANY)
            .build(Reason.CONNECT_TIMEOUT, "connect to 192.0.2.1 port 25 timed out after 5s");
    SourceOutcome gce =
        SourceOutcome.ran(
            "zone-a", "gke-node-1", new ProbeReport("h", false, T0, List.of(blocked)));
    SourceOutcome bare =
        SourceOutcome.ran("zone-b", "metal-1", new ProbeReport("h", false, T0, List.of(blocked)));
    Map<String, String> providerIds =
        Map.of("gke-node-1", "gce://proj/europe-west1-b/gke-node-1", "metal-1", "kind://x/y/z");
    var r =
        StatusAggregator.afterRound(
            null, List.of(P25), IpFamily.ANY, List.of(gce, bare), 1, T0, T0, providerIds::get);
    var sources = r.status().ports.get(0).sources;
    assertThat(
            sources.stream().filter(s -> s.name.equals("zone-a")).findFirst().orElseThrow().message)
        .startsWith("connect to 192.0.2.1 port 25 timed out after 5s. Google Cloud blocks")
        .contains(
            "https://cloud.google.com/vpc/docs/firewalls#blockedtraffic", "use 587 to a relay");
    assertThat(
            sources.stream().filter(s -> s.name.equals("zone-b")).findFirst().orElseThrow().message)
        .isEqualTo("connect to 192.0.2.1 port 25 timed out after 5s");
    assertThat(r.changes())
        .filteredOn(c -> c.source().equals("zone-a"))
        .singleElement()
        .satisfies(c -> assertThat(c.eventMessage()).contains("Google Cloud blocks"));
  }

  @Test
  void otherPortsAndOtherStatesGetNoCloudSentence() {
    ProbeTarget p587 = new ProbeTarget(587, TlsMode.STARTTLS);
    ProbeResult blocked587 =
        ProbeResult.builder("h", p587, IpFamily.ANY).build(Reason.CONNECT_TIMEOUT, "timed out");
    ProbeResult refused25 =
        ProbeResult.builder("h", P25, IpFamily.ANY).build(Reason.CONNECTION_REFUSED, "refused");
    SourceOutcome o =
        SourceOutcome.ran(
            "any", "n", new ProbeReport("h", false, T0, List.of(blocked587, refused25)));
    var r =
        StatusAggregator.afterRound(
            null, List.of(p587, P25), IpFamily.ANY, List.of(o), 1, T0, T0, n -> "gce://p/z/n");
    assertThat(r.status().ports).extracting(p -> p.message).containsExactly("timed out", "refused");
  }
}
