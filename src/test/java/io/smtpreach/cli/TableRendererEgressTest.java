package io.smtpreach.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.probe.EgressFacts;
import io.smtpreach.probe.EgressFacts.Dnsbl;
import io.smtpreach.probe.EgressFacts.SeenBy;
import io.smtpreach.probe.EgressFacts.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The table's egress lines: who saw the address, its PTR, and each list's verdict. */
class TableRendererEgressTest {
  @Test
  void aListingANonListingAndNoVerdictsAreToldApart() {
    String text =
        TableRenderer.egress(
            new EgressFacts(
                "203.0.113.5",
                SeenBy.SERVER,
                "10.0.0.7",
                "out.example.com",
                false,
                List.of(
                    new Dnsbl("bl.example", Verdict.LISTED, "Listed: see https://bl.example"),
                    new Dnsbl("other.example", Verdict.NOT_LISTED, null),
                    new Dnsbl("keyed.example", Verdict.LIST_ERROR, "list error 127.255.255.254"),
                    new Dnsbl("slow.example", Verdict.LOOKUP_FAILED, "lookup failed: timed out"))));
    assertThat(text)
        .isEqualTo(
            "Egress: 203.0.113.5 (seen by the server; local 10.0.0.7), PTR out.example.com (does"
                + " not resolve back)\n"
                + "  bl.example: LISTED: Listed: see https://bl.example\n"
                + "  other.example: not listed\n"
                + "  keyed.example: no verdict: list error 127.255.255.254\n"
                + "  slow.example: no verdict: lookup failed: timed out\n");
  }

  @Test
  void aLocalAddressSaysNoServerToldAndAnUnlookedPtrIsUnknown() {
    assertThat(
            TableRenderer.egress(
                new EgressFacts("10.0.0.7", SeenBy.LOCAL, "10.0.0.7", null, null, List.of())))
        .isEqualTo("Egress: 10.0.0.7 (local; no server said which address it saw), PTR unknown\n");
    assertThat(
            TableRenderer.egress(
                new EgressFacts(
                    "203.0.113.5", SeenBy.LOCAL, "203.0.113.5", null, false, List.of())))
        .contains(", no PTR");
  }
}
