package io.smtpreach.probe;

import static io.smtpreach.peers.FakeDnsServer.blocklistName;
import static io.smtpreach.peers.FaultServer.SmtpScript.CLIENT;
import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.peers.FaultServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which address a probe's mail leaves from, and how receivers judge it: the address a server echoes
 * (or the local one), its reverse DNS, its blocklist entries. Every name is answered by {@link
 * FakeDnsServer}: nothing is asked of a public resolver or list.
 */
class EgressProbeTest {
  /** What the fault server claims to have seen: a public (documentation) address, as after NAT. */
  private static final String NAT = "203.0.113.5";

  private static final String LIST = "bl.test";
  private static final String OTHER_LIST = "other-bl.test";

  private FakeDnsServer dns;

  @BeforeEach
  void startDns() throws Exception {
    dns = FakeDnsServer.start();
  }

  @AfterEach
  void stopDns() {
    dns.close();
  }

  private ProbeOptions.Builder options() {
    return ProbeOptions.builder()
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(2))
        .timeout(Duration.ofSeconds(5))
        .dnsTimeout(Duration.ofMillis(700))
        .tlsSniffDelay(Duration.ofMillis(200))
        .dnsServer(dns.address());
  }

  /** Probes the fault server's port as if it were 25 (the blocklists' condition) when asked. */
  private ProbeReport probe(FaultServer.SmtpScript script, ProbeOptions options) throws Exception {
    try (FaultServer server = FaultServer.start(FaultServer.smtp(script));
        SmtpProber prober = new SmtpProber(options)) {
      return prober.probe("127.0.0.1", List.of(new ProbeTarget(server.port(), TlsMode.NONE)));
    }
  }

  private ProbeReport probeMx(FaultServer.SmtpScript script, ProbeOptions options)
      throws Exception {
    // MX mode delivers directly: the blocklists are asked. The fault server stands in for port 25
    // through the MX host's address and the test's own port.
    try (FaultServer server = FaultServer.start(FaultServer.smtp(script));
        SmtpProber prober = new SmtpProber(options)) {
      dns.mx("mail.test", 10, "mx.mail.test").a("mx.mail.test", "127.0.0.1");
      return prober.probeMx("mail.test", new ProbeTarget(server.port(), TlsMode.NONE));
    }
  }

  @Test
  void anAddressEchoedEximStyleIsTheEgressSeenByTheServer() throws Exception {
    ProbeReport r =
        probe(
            plain().ehloLine("fault.test Hello smtp-reach.invalid [" + CLIENT + "]"),
            options().build());
    assertThat(r.results().get(0).seenAddress()).isEqualTo("127.0.0.1");
    assertThat(r.egress().address()).isEqualTo("127.0.0.1");
    assertThat(r.egress().seenBy()).isEqualTo(EgressFacts.SeenBy.SERVER);
    assertThat(r.egress().local()).isEqualTo("127.0.0.1");
    assertThat(r.egress().ptrConfirmed()).as("loopback is never looked up").isNull();
    assertThat(dns.queries()).isEmpty();
  }

  @Test
  void anAddressEchoedGmailStyleIsRead() throws Exception {
    ProbeReport r =
        probe(plain().ehloLine("mx.google.test at your service, [" + NAT + "]"), options().build());
    assertThat(r.egress().address()).isEqualTo(NAT);
    assertThat(r.egress().seenBy()).isEqualTo(EgressFacts.SeenBy.SERVER);
    assertThat(r.egress().local()).isEqualTo("127.0.0.1");
  }

  @Test
  void aMalformedEchoIsUnknownAndTheLocalAddressIsShownAsLocal() throws Exception {
    ProbeReport r =
        probe(plain().ehloLine("fault.test Hello x [203.0.113.999]"), options().build());
    assertThat(r.results().get(0).seenAddress()).isNull();
    assertThat(r.egress().address()).isEqualTo("127.0.0.1");
    assertThat(r.egress().seenBy()).isEqualTo(EgressFacts.SeenBy.LOCAL);
  }

  @Test
  void noEchoIsUnknown() throws Exception {
    ProbeReport r = probe(plain(), options().build());
    assertThat(r.egress().seenBy()).isEqualTo(EgressFacts.SeenBy.LOCAL);
    assertThat(r.egress().ptr()).isNull();
  }

  @Test
  void aPortThatNeverConnectedHasNoEgress() throws Exception {
    try (SmtpProber prober = new SmtpProber(options().build())) {
      // A port nobody listens on: refused before any local address mattered.
      java.net.ServerSocket s = new java.net.ServerSocket(0);
      int port = s.getLocalPort();
      s.close();
      ProbeReport r = prober.probe("127.0.0.1", List.of(new ProbeTarget(port, TlsMode.NONE)));
      assertThat(r.egress()).isNull();
    }
  }

  @Test
  void aPtrThatResolvesBackIsConfirmed() throws Exception {
    dns.ptr(NAT, "out.example.test").a("out.example.test", NAT);
    ProbeReport r = probe(echoing(NAT), options().build());
    assertThat(r.egress().ptr()).isEqualTo("out.example.test");
    assertThat(r.egress().ptrConfirmed()).isTrue();
  }

  @Test
  void aPtrThatDoesNotResolveBackIsNotConfirmed() throws Exception {
    dns.ptr(NAT, "out.example.test").a("out.example.test", "198.51.100.1");
    ProbeReport r = probe(echoing(NAT), options().build());
    assertThat(r.egress().ptr()).isEqualTo("out.example.test");
    assertThat(r.egress().ptrConfirmed()).isFalse();
  }

  @Test
  void noPtrIsNotConfirmed() throws Exception {
    ProbeReport r = probe(echoing(NAT), options().build());
    assertThat(r.egress().ptr()).isNull();
    assertThat(r.egress().ptrConfirmed()).isFalse();
  }

  @Test
  void anIpv6PtrIsConfirmedByItsAaaa() throws Exception {
    dns.ptr("2001:db8::25", "out6.example.test").aaaa("out6.example.test", "2001:db8::25");
    ProbeReport r =
        probe(plain().ehloLine("fault.test Hello x [IPv6:2001:db8::25]"), options().build());
    assertThat(r.egress().address()).isEqualTo("2001:db8:0:0:0:0:0:25");
    assertThat(r.egress().ptr()).isEqualTo("out6.example.test");
    assertThat(r.egress().ptrConfirmed()).isTrue();
  }

  @Test
  void aSilentReverseZoneIsUnknownWithinTheDeadline() throws Exception {
    dns.silent("5.113.0.203.in-addr.arpa");
    long t = System.nanoTime();
    ProbeReport r = probe(echoing(NAT), options().build());
    assertThat(r.egress().ptr()).isNull();
    assertThat(r.egress().ptrConfirmed()).isNull();
    assertThat(Duration.ofNanos(System.nanoTime() - t)).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void blocklistsAreAskedOnlyWhenTheProbeDeliversDirectly() throws Exception {
    probe(echoing(NAT), options().dnsblZones(List.of(LIST)).build());
    assertThat(dns.queries(blocklistName(LIST, NAT))).as("a submission port: no list").isEmpty();
  }

  @Test
  void aListingNamesTheListAndItsReason() throws Exception {
    String name = blocklistName(LIST, NAT);
    dns.a(name, "127.0.0.2").txt(name, "Listed: https://bl.test/lookup?ip=" + NAT);
    ProbeReport r = probeMx(echoing(NAT), options().dnsblZones(List.of(LIST, OTHER_LIST)).build());
    assertThat(r.egress().lists())
        .containsExactly(
            new EgressFacts.Dnsbl(
                LIST, EgressFacts.Verdict.LISTED, "Listed: https://bl.test/lookup?ip=" + NAT),
            new EgressFacts.Dnsbl(OTHER_LIST, EgressFacts.Verdict.NOT_LISTED, null));
    assertThat(r.egress().listings()).hasSize(1);
    assertThat(dns.queries(blocklistName(OTHER_LIST, NAT))).hasSize(1);
  }

  @Test
  void theListsOwnErrorCodesAreNotListings() throws Exception {
    dns.a(blocklistName(LIST, NAT), "127.255.255.254");
    dns.a(blocklistName(OTHER_LIST, NAT), "127.255.255.255");
    ProbeReport r = probeMx(echoing(NAT), options().dnsblZones(List.of(LIST, OTHER_LIST)).build());
    assertThat(r.egress().lists())
        .extracting(EgressFacts.Dnsbl::verdict)
        .containsOnly(EgressFacts.Verdict.LIST_ERROR);
    assertThat(r.egress().lists().get(0).detail())
        .contains("127.255.255.254", "public or open resolver");
    assertThat(r.egress().lists().get(1).detail()).contains("rate limited");
    assertThat(r.egress().listings()).isEmpty();
  }

  @Test
  void anAnswerOutside127IsNoListing() throws Exception {
    dns.a(blocklistName(LIST, NAT), "198.51.100.80");
    ProbeReport r = probeMx(echoing(NAT), options().dnsblZones(List.of(LIST)).build());
    assertThat(r.egress().lists().get(0).verdict()).isEqualTo(EgressFacts.Verdict.LIST_ERROR);
  }

  @Test
  void aSilentOrFailingListIsNeitherListedNorClean() throws Exception {
    dns.silent(blocklistName(LIST, NAT)).servfail(blocklistName(OTHER_LIST, NAT));
    ProbeReport r = probeMx(echoing(NAT), options().dnsblZones(List.of(LIST, OTHER_LIST)).build());
    assertThat(r.egress().lists())
        .extracting(EgressFacts.Dnsbl::verdict)
        .containsExactly(EgressFacts.Verdict.LOOKUP_FAILED, EgressFacts.Verdict.LOOKUP_FAILED);
  }

  @Test
  void theLocalAddressIsAskedAboutWhenNoServerSaid() throws Exception {
    // Loopback is never asked about: the local address of a probe behind NAT is private too.
    ProbeReport r = probeMx(plain(), options().dnsblZones(List.of(LIST)).build());
    assertThat(r.egress().seenBy()).isEqualTo(EgressFacts.SeenBy.LOCAL);
    assertThat(r.egress().lists()).isEmpty();
    assertThat(dns.queries()).noneMatch(q -> q.name().endsWith(LIST + "."));
  }

  @Test
  void anIpv6AddressIsAskedByNibbles() throws Exception {
    dns.a("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2." + LIST, "127.0.0.4");
    ProbeReport r =
        probeMx(
            plain().ehloLine("fault.test Hello x [IPv6:2001:db8::25]"),
            options().dnsblZones(List.of(LIST)).build());
    assertThat(r.egress().lists().get(0).verdict()).isEqualTo(EgressFacts.Verdict.LISTED);
    assertThat(r.egress().lists().get(0).detail()).isEqualTo("listed (127.0.0.4)");
  }

  @Test
  void aHostileTxtReasonIsSanitisedAndBounded() throws Exception {
    String name = blocklistName(LIST, NAT);
    dns.a(name, "127.0.0.2").txt(name, "\u001b[31mevil\r\n" + "x".repeat(220));
    ProbeReport r = probeMx(echoing(NAT), options().dnsblZones(List.of(LIST)).build());
    String detail = r.egress().lists().get(0).detail();
    assertThat(detail).doesNotContain("\u001b", "\r", "\n");
    assertThat(detail.length()).isLessThanOrEqualTo(EgressFacts.MAX_DETAIL_CHARS + 1);
  }

  private static FaultServer.SmtpScript echoing(String address) {
    return plain().ehloLine("fault.test Hello smtp-reach.invalid [" + address + "]");
  }
}
