package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.peers.FakeDnsServer.Query;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.ResolverConfig;

/**
 * Given a DNS server that answers as told, the prober reports each DNS outcome with its own reason,
 * and probes what resolves. Resolved hosts point at a closed port on the loopback, so no SMTP
 * server is needed; in MX mode (always port 25) the MX hosts have no address, so no port is
 * touched.
 */
class DnsResolutionTest {
  private static final Duration DNS_TIMEOUT = Duration.ofMillis(300);

  private FakeDnsServer dns;
  private int closedPort;

  @BeforeEach
  void startDns() throws IOException {
    dns = FakeDnsServer.start();
    closedPort = closedPort();
  }

  @AfterEach
  void stopDns() {
    dns.close();
  }

  @Test
  void aNameThatDoesNotExistIsNoSuchHost() {
    dns.nxdomain("gone.test");

    ProbeResult result = only(probe("gone.test", IpFamily.ANY));

    assertThat(result.state()).isEqualTo(PortState.DNS_FAILURE);
    assertThat(result.reason()).isEqualTo(Reason.NO_SUCH_HOST);
    assertThat(result.addresses()).isEmpty();
    assertThat(result.address()).isNull();
  }

  @Test
  void aServerThatNeverAnswersIsDnsTimeoutAfterTheDnsTimeout() {
    dns.silent("slow.test");

    ProbeResult result = only(probe("slow.test", IpFamily.ANY));

    assertThat(result.reason()).isEqualTo(Reason.DNS_TIMEOUT);
    assertThat(result.state()).isEqualTo(PortState.DNS_FAILURE);
    assertThat(result.timing(Phase.DNS)).isGreaterThanOrEqualTo(DNS_TIMEOUT);
    // One question per type, asked in parallel: the wait is one timeout, not one per search domain.
    assertThat(dns.queries("slow.test"))
        .extracting(Query::type)
        .containsExactlyInAnyOrder("A", "AAAA");
  }

  @Test
  void servfailIsDnsError() {
    dns.servfail("broken.test");

    ProbeResult result = only(probe("broken.test", IpFamily.ANY));

    assertThat(result.state()).isEqualTo(PortState.DNS_FAILURE);
    assertThat(result.reason()).isEqualTo(Reason.DNS_ERROR);
    assertThat(result.message()).contains("SERVFAIL");
  }

  /**
   * dnsjava publishes its hosts table before it has read the file, and A and AAAA run in parallel:
   * in a fresh JVM (where class loading makes the first read slow) a lookup could miss /etc/hosts
   * and ask DNS. Each attempt is a new process, as each probe pod is.
   */
  @Test
  void aNameInTheHostsFileResolvesInEveryFreshProbeProcess(@TempDir Path dir) throws IOException {
    Path hosts = Path.of("/etc/hosts");
    Assumptions.assumeTrue(
        Files.isReadable(hosts)
            && Files.readString(hosts).matches("(?s).*127\\.0\\.0\\.1\\s+localhost\\b.*"),
        "/etc/hosts has no 127.0.0.1 localhost line");
    for (int i = 0; i < 8; i++) {
      Path result = dir.resolve("result-" + i + ".json");
      ProcessRunner.run(
          List.of(
              ProjectPaths.java(),
              "-cp",
              ProjectPaths.classPath(),
              "io.smtpreach.cli.Main",
              "probe",
              "localhost",
              "-p",
              closedPort + ":none",
              "--result-file",
              result.toString()),
          60);
      assertThat(Files.readString(result)).as("attempt " + i).contains("ConnectionRefused");
    }
  }

  @Test
  void anAddressIsResolvedThenProbed() {
    dns.a("mail.test", "127.0.0.1");

    ProbeResult result = only(probe("mail.test", IpFamily.ANY));

    assertThat(result.addresses()).containsExactly("127.0.0.1");
    assertThat(result.address()).isEqualTo("127.0.0.1");
    assertThat(result.timing(Phase.DNS)).isNotNull();
    assertThat(result.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
  }

  @Test
  void onlyAnIpv6AddressIsNoAddressForIpv4() {
    dns.aaaa("v6only.test", "::1");

    ProbeResult result = only(probe("v6only.test", IpFamily.V4));

    assertThat(result.state()).isEqualTo(PortState.DNS_FAILURE);
    assertThat(result.reason()).isEqualTo(Reason.NO_ADDRESS);
    assertThat(dns.queries("v6only.test")).extracting(Query::type).containsExactly("A");
  }

  @Test
  void eachFamilyGivesOneResultPerFamilyOverItsOwnAddress() {
    dns.a("dual.test", "127.0.0.1").aaaa("dual.test", "::1");

    List<ProbeResult> results = probe("dual.test", IpFamily.EACH).results();

    assertThat(results).extracting(ProbeResult::family).containsExactly(IpFamily.V4, IpFamily.V6);
    assertThat(results.get(0).addresses()).containsExactly("127.0.0.1");
    assertThat(results.get(0).address()).isEqualTo("127.0.0.1");
    assertThat(results.get(0).reason()).isEqualTo(Reason.CONNECTION_REFUSED);
    assertThat(results.get(1).addresses()).containsExactly("0:0:0:0:0:0:0:1");
    assertThat(results.get(1).address()).isEqualTo("0:0:0:0:0:0:0:1");
    assertThat(results.get(1).state()).isNotEqualTo(PortState.DNS_FAILURE);
  }

  @Test
  void mxHostsAreProbedInPreferenceOrder() {
    dns.mx("example.test", 20, "mx2.example.test")
        .mx("example.test", 10, "mx1.example.test")
        .mx("example.test", 30, "backup.example.test")
        .exists("mx1.example.test")
        .exists("mx2.example.test")
        .exists("backup.example.test");

    ProbeReport report = probeMx("example.test");

    assertThat(report.mx()).isTrue();
    assertThat(report.subject()).isEqualTo("example.test");
    assertThat(report.results())
        .extracting(ProbeResult::host)
        .containsExactly("mx1.example.test", "mx2.example.test", "backup.example.test");
    assertThat(report.results()).allSatisfy(r -> assertThat(r.target().port()).isEqualTo(25));
    // Each MX host went through its own address lookup (it has none, so no port 25 is touched).
    assertThat(report.results()).extracting(ProbeResult::reason).containsOnly(Reason.NO_ADDRESS);
    for (String host : List.of("mx1.example.test", "mx2.example.test", "backup.example.test")) {
      assertThat(dns.queries(host)).extracting(Query::type).contains("A");
    }
  }

  @Test
  void aNullMxIsNullMx() {
    dns.nullMx("nomail.test");

    ProbeReport report = probeMx("nomail.test");

    assertThat(report.mx()).isTrue();
    ProbeResult result = only(report);
    assertThat(result.host()).isEqualTo("nomail.test");
    assertThat(result.state()).isEqualTo(PortState.DNS_FAILURE);
    assertThat(result.reason()).isEqualTo(Reason.NULL_MX);
    assertThat(dns.queries()).extracting(Query::type).containsExactly("MX");
  }

  @Test
  void withEachFamilyAFailedMxLookupIsAFailureOverEachFamilyAndSurvivesTheReport()
      throws MalformedReportException {
    dns.nullMx("nomail.test");

    ProbeReport report;
    try (SmtpProber prober = new SmtpProber(options(IpFamily.EACH))) {
      report = prober.probeMx("nomail.test");
    }

    // Each family has its own verdict to keep, so the lookup's failure is each family's.
    assertThat(report.results())
        .extracting(ProbeResult::family)
        .containsExactly(IpFamily.V4, IpFamily.V6);
    assertThat(report.results()).extracting(ProbeResult::reason).containsOnly(Reason.NULL_MX);
    assertThat(ReportCodec.decode(ReportCodec.encode(report)).results())
        .extracting(ProbeResult::family)
        .containsExactly(IpFamily.V4, IpFamily.V6);
  }

  @Test
  void aDomainWithoutMxIsItsOwnMailHost() {
    dns.exists("plain.test"); // NOERROR, no MX data (RFC 5321 section 5.1: implicit MX)

    ProbeReport report = probeMx("plain.test");

    assertThat(report.mx()).isTrue();
    ProbeResult result = only(report);
    assertThat(result.host()).isEqualTo("plain.test");
    assertThat(result.target().port()).isEqualTo(25);
    assertThat(dns.queries("plain.test"))
        .extracting(Query::type)
        .startsWith("MX")
        .contains("A", "AAAA");
    assertThat(result.reason()).isEqualTo(Reason.NO_ADDRESS);
  }

  @Test
  void aTruncatedUdpAnswerIsFetchedAgainOverTcp() {
    dns.a("big.test", "127.0.0.1").truncateOverUdp("big.test");

    ProbeResult result = only(probe("big.test", IpFamily.V4));

    assertThat(result.addresses()).containsExactly("127.0.0.1");
    assertThat(result.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
    assertThat(dns.queries("big.test")).contains(new Query("big.test.", "A", true));
  }

  @Test
  void aChosenDnsServerIsAskedAboutTheNameAsGivenNotThroughTheLocalSearchList() throws Exception {
    // Kubernetes pods search their namespace's domains first (ndots:5); with a chosen server that
    // would ask it about relay.test.corp.test. before relay.test.
    dns.a("relay.test", "127.0.0.1").a("relay.test.corp.test", "127.0.0.2");
    List<Name> searchPath = Lookup.getDefaultSearchPath();
    Lookup.setDefaultSearchPath("corp.test.");
    Lookup.setDefaultNdots(5);
    ProbeResult result;
    try {
      result = only(probe("relay.test", IpFamily.V4));
    } finally {
      Lookup.setDefaultSearchPath(searchPath);
      Lookup.setDefaultNdots(ResolverConfig.getCurrentConfig().ndots());
    }

    assertThat(result.addresses()).containsExactly("127.0.0.1");
    assertThat(dns.queries()).containsExactly(new Query("relay.test.", "A", false));
  }

  @Test
  void anAbsoluteNameWithATrailingDotResolves() {
    dns.a("mail.test", "127.0.0.1");

    ProbeResult result = only(probe("mail.test.", IpFamily.V4));

    assertThat(result.addresses()).containsExactly("127.0.0.1");
    assertThat(result.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
  }

  @Test
  void theSystemResolverAnswersLocalhostFromTheHostsFile() {
    // No dnsServer: dnsjava reads /etc/resolv.conf and answers names in /etc/hosts itself.
    ProbeOptions options = ProbeOptions.builder().dnsTimeout(Duration.ofSeconds(1)).build();
    ProbeReport report;
    try (SmtpProber prober = new SmtpProber(options)) {
      report = prober.probe("localhost", List.of(new ProbeTarget(closedPort, TlsMode.NONE)));
    }

    ProbeResult result = only(report);
    assertThat(result.addresses()).contains("127.0.0.1");
    assertThat(result.address()).isEqualTo("127.0.0.1");
    assertThat(result.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
  }

  @Test
  void theSystemResolversAnswersServeEveryProbeOfTheProcessButAChosenServerIsAskedEachTime() {
    // A resident agent probes the same names every round: through the system's resolver, which
    // here is this test's server, the second probe is answered from the first one's answer.
    String name = "shared-" + System.nanoTime() + ".test";
    dns.a(name, "127.0.0.1");
    String configured = System.getProperty("dns.server");
    System.setProperty("dns.server", dns.address().getHostString() + ":" + dns.address().getPort());
    ResolverConfig.refresh();
    try {
      ProbeOptions system =
          ProbeOptions.builder()
              .dnsTimeout(DNS_TIMEOUT)
              .connectTimeout(Duration.ofSeconds(2))
              .ipFamily(IpFamily.V4)
              .build();
      for (int i = 0; i < 2; i++) {
        try (SmtpProber prober = new SmtpProber(system)) {
          ProbeResult result =
              only(prober.probe(name, List.of(new ProbeTarget(closedPort, TlsMode.NONE))));
          assertThat(result.addresses()).containsExactly("127.0.0.1");
        }
      }
    } finally {
      if (configured == null) {
        System.clearProperty("dns.server");
      } else {
        System.setProperty("dns.server", configured);
      }
      ResolverConfig.refresh();
    }
    assertThat(dns.queries(name)).containsExactly(new Query(name + ".", "A", false));

    only(probe(name, IpFamily.V4));
    only(probe(name, IpFamily.V4));
    assertThat(dns.queries(name)).as("a chosen server: asked by each probe").hasSize(3);
  }

  private ProbeReport probe(String host, IpFamily family) {
    try (SmtpProber prober = new SmtpProber(options(family))) {
      return prober.probe(host, List.of(new ProbeTarget(closedPort, TlsMode.NONE)));
    }
  }

  private ProbeReport probeMx(String domain) {
    try (SmtpProber prober = new SmtpProber(options(IpFamily.ANY))) {
      return prober.probeMx(domain);
    }
  }

  private ProbeOptions options(IpFamily family) {
    return ProbeOptions.builder()
        .dnsServer(dns.address())
        .dnsTimeout(DNS_TIMEOUT)
        .connectTimeout(Duration.ofSeconds(2))
        .ipFamily(family)
        .build();
  }

  private static ProbeResult only(ProbeReport report) {
    assertThat(report.results()).hasSize(1);
    return report.results().get(0);
  }

  /** A port nobody listens on: bound by the system, then released. */
  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
