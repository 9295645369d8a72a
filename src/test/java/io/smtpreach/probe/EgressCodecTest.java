package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The egress facts in the versioned report: carried whole, cut last, read strictly. */
class EgressCodecTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:15:30Z");

  static EgressFacts listed() {
    return new EgressFacts(
        "203.0.113.5",
        EgressFacts.SeenBy.SERVER,
        "10.0.0.7",
        "out.example.com",
        true,
        List.of(
            new EgressFacts.Dnsbl(
                "bl.example",
                EgressFacts.Verdict.LISTED,
                "Listed: https://bl.example/q?" + "x".repeat(150)),
            new EgressFacts.Dnsbl("other.example", EgressFacts.Verdict.NOT_LISTED, null),
            new EgressFacts.Dnsbl(
                "keyed.example",
                EgressFacts.Verdict.LIST_ERROR,
                "list error 127.255.255.254 (query refused), not a listing")));
  }

  private static ProbeReport report(EgressFacts egress, int ports, String filler) {
    List<ProbeResult> results = new ArrayList<>();
    for (int p = 1; p <= ports; p++) {
      results.add(ReportCodecTest.reachable(p, TlsMode.STARTTLS, filler));
    }
    return new ProbeReport("smtp.example.com", false, AT, results, 0, egress);
  }

  @Test
  void egressFactsRoundTrip() throws Exception {
    ProbeReport report = report(listed(), 1, "");
    assertThat(ReportCodec.decode(ReportCodec.encode(report))).isEqualTo(report);
  }

  @Test
  void aLocalAddressOnlyRoundTrips() throws Exception {
    ProbeReport report =
        report(
            new EgressFacts(
                "10.0.0.7", EgressFacts.SeenBy.LOCAL, "10.0.0.7", null, null, List.of()),
            1,
            "");
    String json = ReportCodec.encode(report);
    assertThat(json).contains("\"egress\":{\"address\":\"10.0.0.7\",\"seenBy\":\"Local\"}");
    assertThat(ReportCodec.decode(json)).isEqualTo(report);
  }

  @Test
  void egressSurvivesEveryDetailLevelButTheSmallest() throws Exception {
    for (ReportCodec.Detail d : ReportCodec.Detail.values()) {
      EgressFacts decoded =
          ReportCodec.decode(ReportCodec.encode(report(listed(), 2, ""), d)).egress();
      if (d == ReportCodec.Detail.MINIMAL) {
        assertThat(decoded).as(d.name()).isNull();
        continue;
      }
      assertThat(decoded.address()).as(d.name()).isEqualTo("203.0.113.5");
      assertThat(decoded.ptrConfirmed()).isTrue();
      assertThat(decoded.listings())
          .extracting(EgressFacts.Dnsbl::zone)
          .containsExactly("bl.example");
      int max =
          d.compareTo(ReportCodec.Detail.SHORT) < 0
              ? EgressFacts.MAX_DETAIL_CHARS
              : EgressFacts.SHORT_DETAIL_CHARS + 1;
      assertThat(decoded.lists().get(0).detail().length()).isLessThanOrEqualTo(max);
    }
  }

  @Test
  void aBoundedReportKeepsTheEgressWhenDetailCanGoFirst() throws Exception {
    String filler = " " + "é".repeat(400);
    String json =
        ReportCodec.encode(report(listed(), 4, filler), ReportCodec.TERMINATION_MESSAGE_LIMIT);
    assertThat(json.getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(ReportCodec.TERMINATION_MESSAGE_LIMIT);
    ProbeReport decoded = ReportCodec.decode(json);
    assertThat(decoded.results()).hasSize(4);
    assertThat(decoded.egress().listings()).hasSize(1);
  }

  @Test
  void aBatchCarriesEachEndpointsEgress() throws Exception {
    ProbeReport report = report(listed(), 1, "");
    String message =
        BatchCodec.encode(
            List.of(BatchCodec.Entry.probed(report), BatchCodec.Entry.probed(report)),
            ReportCodec.TERMINATION_MESSAGE_LIMIT);
    assertThat(BatchCodec.decode(message))
        .allSatisfy(e -> assertThat(e.report().egress()).isEqualTo(listed()));
  }

  private static String withEgress(String egress) {
    return "{\"v\":1,\"subject\":\"h\",\"at\":\"2026-11-23T10:15:30Z\",\"results\":[],\"egress\":"
        + egress
        + "}";
  }

  @Test
  void hostileEgressValuesAreRefused() {
    assertThatThrownBy(() -> ReportCodec.decode(withEgress("\"1.2.3.4\"")))
        .hasMessageContaining("'egress' must be an object");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress("{\"address\":\"evil\\\"} 1\",\"seenBy\":\"Server\"}")))
        .hasMessageContaining("'address' is not an IP address");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress("{\"address\":\"" + "1".repeat(5000) + "\",\"seenBy\":\"Server\"}")))
        .hasMessageContaining("'address' is not an IP address");
    assertThatThrownBy(
            () -> ReportCodec.decode(withEgress("{\"address\":\"1.2.3.4\",\"seenBy\":\"Guess\"}")))
        .hasMessageContaining("unknown seenBy 'Guess'");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress(
                        "{\"address\":\"1.2.3.4\",\"seenBy\":\"Server\",\"ptr\":\""
                            + "a".repeat(300)
                            + "\"}")))
        .hasMessageContaining("'ptr' must be printable and at most 253 characters");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress(
                        "{\"address\":\"1.2.3.4\",\"seenBy\":\"Server\",\"ptr\":\"a\\u001b[31m\"}")))
        .hasMessageContaining("'ptr' must be printable");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress(
                        "{\"address\":\"1.2.3.4\",\"seenBy\":\"Server\",\"ptrConfirmed\":\"yes\"}")))
        .hasMessageContaining("'ptrConfirmed' must be true or false");
    String many = "{\"zone\":\"z.test\",\"verdict\":\"NotListed\"},".repeat(17);
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress(
                        "{\"address\":\"1.2.3.4\",\"seenBy\":\"Server\",\"lists\":["
                            + many.substring(0, many.length() - 1)
                            + "]}")))
        .hasMessageContaining("at most 16");
    assertThatThrownBy(
            () ->
                ReportCodec.decode(
                    withEgress(
                        "{\"address\":\"1.2.3.4\",\"seenBy\":\"Server\",\"lists\":[{\"zone\":\"z.test\",\"verdict\":\"Clean\"}]}")))
        .hasMessageContaining("unknown blocklist verdict 'Clean'");
  }

  @Test
  void aListsReasonIsMadeSafeToShow() throws Exception {
    EgressFacts e =
        ReportCodec.decode(
                withEgress(
                    "{\"address\":\"1.2.3.4\",\"seenBy\":\"Server\",\"lists\":[{\"zone\":\"z.test\",\"verdict\":\"Listed\",\"detail\":\"a\\u001b[31m\\nb"
                        + "c".repeat(500)
                        + "\"}]}"))
            .egress();
    assertThat(e.lists().get(0).detail()).doesNotContain("\u001b", "\n");
    assertThat(e.lists().get(0).detail().length())
        .isLessThanOrEqualTo(EgressFacts.MAX_DETAIL_CHARS + 1);
  }
}
