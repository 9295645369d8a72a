package io.smtpreach.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.probe.BatchCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A resident agent reads each endpoint's arguments once, and keeps a bounded number of them. */
class PreparedProbeCacheTest {
  private final List<List<String>> prepared = new ArrayList<>();

  private final ProbeEngine counting =
      args -> {
        prepared.add(args);
        return new PreparedProbe() {
          @Override
          public boolean refused() {
            return false;
          }

          @Override
          public Duration budget() {
            return Duration.ofSeconds(1);
          }

          @Override
          public BatchCodec.Entry run() {
            return BatchCodec.Entry.failed(String.join(" ", args));
          }
        };
      };

  @Test
  void theSameArgumentsArePreparedOnce() {
    PreparedProbeCache cache = new PreparedProbeCache(counting, 4);
    PreparedProbe first = cache.prepare(List.of("--port=587", "--", "mail.example"));
    PreparedProbe again =
        cache.prepare(new ArrayList<>(List.of("--port=587", "--", "mail.example")));
    assertThat(again).isSameAs(first);
    assertThat(prepared).hasSize(1);

    cache.prepare(List.of("--port=465", "--", "mail.example"));
    assertThat(prepared).as("other arguments, another probe").hasSize(2);
  }

  @Test
  void itKeepsAtMostItsCapacityTheLeastRecentlyAskedGoingFirst() {
    PreparedProbeCache cache = new PreparedProbeCache(counting, 2);
    List<String> a = List.of("--", "a.example");
    List<String> b = List.of("--", "b.example");
    List<String> c = List.of("--", "c.example");
    cache.prepare(a);
    cache.prepare(b);
    cache.prepare(a); // a is now the most recent
    cache.prepare(c); // b goes
    assertThat(prepared).hasSize(3);

    cache.prepare(a);
    assertThat(prepared).as("a was kept").hasSize(3);
    cache.prepare(b);
    assertThat(prepared).as("b was dropped, and is prepared again").hasSize(4);
  }

  @Test
  void aCachedProbeStillRunsWithItsOwnArguments() {
    PreparedProbeCache cache = new PreparedProbeCache(counting, 8);
    List<String> args = new ArrayList<>(List.of("--", "a.example"));
    PreparedProbe probe = cache.prepare(args);
    args.set(1, "changed.example"); // the caller's list is not the key
    assertThat(cache.prepare(List.of("--", "a.example"))).isSameAs(probe);
    assertThat(probe.run().error()).isEqualTo("-- a.example");
  }
}
