package io.smtpreach.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.smtpreach.api.EgressStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.metrics.Exposition.Sample;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The egress series follow status.egress at scrape time: one info series, one per list. */
class EgressMetricsTest {
  private final EndpointMetrics metrics = new EndpointMetrics();
  private final Map<String, SmtpEndpoint> cache = new ConcurrentHashMap<>();

  @BeforeEach
  void renderFromTheCache() {
    metrics.renderFrom(() -> cache.values().stream(), e -> Optional.of(Duration.ofMinutes(5)));
  }

  private static EgressStatus.Blocklist list(String name, String verdict) {
    EgressStatus.Blocklist b = new EgressStatus.Blocklist();
    b.name = name;
    b.verdict = verdict;
    b.detail = "a reason that never becomes a label";
    return b;
  }

  private void put(EgressStatus... egress) {
    SmtpEndpoint e = new SmtpEndpoint();
    e.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName("mail").build());
    e.setSpec(new SmtpEndpointSpec());
    e.setStatus(new SmtpEndpointStatus());
    e.getStatus().egress = List.of(egress);
    cache.put("mail", e);
  }

  private static EgressStatus egress(String source, String address, Boolean confirmed) {
    EgressStatus s = new EgressStatus();
    s.source = source;
    s.address = address;
    s.seenBy = "Server";
    s.ptr = confirmed == null ? null : "out.example";
    s.ptrConfirmed = confirmed;
    return s;
  }

  @Test
  void eachSourceHasOneInfoSeriesWithItsAddressAndPtr() {
    put(egress("zone-a", "203.0.113.5", true), egress("zone-b", "198.51.100.9", null));
    assertThat(samples(EndpointMetrics.EGRESS_INFO))
        .extracting(s -> s.labelNames + "=" + s.labelValues + "=" + s.value)
        .containsExactly(
            "[namespace, endpoint, source, address, seen_by, ptr, ptr_confirmed]=[team, mail,"
                + " zone-a, 203.0.113.5, Server, out.example, true]=1.0",
            "[namespace, endpoint, source, address, seen_by, ptr, ptr_confirmed]=[team, mail,"
                + " zone-b, 198.51.100.9, Server, , unknown]=1.0");
  }

  @Test
  void aListingIsOneANonListingZeroAndNoVerdictIsAnErrorSeriesInstead() {
    EgressStatus e = egress("any", "203.0.113.5", false);
    e.lists =
        List.of(
            list("bl.example", "Listed"),
            list("other.example", "NotListed"),
            list("keyed.example", "ListError"),
            list("slow.example", "LookupFailed"));
    e.listedOn = List.of("bl.example");
    put(e);
    assertThat(samples(EndpointMetrics.EGRESS_LISTED))
        .extracting(s -> s.labelValues.get(3) + "=" + s.value)
        .containsExactly("bl.example=1.0", "other.example=0.0");
    assertThat(samples(EndpointMetrics.EGRESS_LIST_ERROR))
        .extracting(s -> s.labelValues.get(3) + "=" + s.value)
        .containsExactly("keyed.example=1.0", "slow.example=1.0");
    assertThat(samples())
        .flatExtracting(s -> s.labelValues)
        .doesNotContain("a reason that never becomes a label");
  }

  @Test
  void anEndpointWithoutEgressHasNoEgressSeries() {
    SmtpEndpoint e = new SmtpEndpoint();
    e.setMetadata(new ObjectMetaBuilder().withNamespace("team").withName("mail").build());
    e.setStatus(new SmtpEndpointStatus());
    e.getStatus().egress = null;
    cache.put("mail", e);
    assertThat(samples(EndpointMetrics.EGRESS_INFO)).isEmpty();
    assertThat(samples(EndpointMetrics.STATUS_UNREADABLE)).isEmpty();
  }

  private List<Sample> samples() {
    return Exposition.of(metrics).samples();
  }

  private List<Sample> samples(String name) {
    return samples().stream().filter(s -> s.name.equals(name)).toList();
  }
}
