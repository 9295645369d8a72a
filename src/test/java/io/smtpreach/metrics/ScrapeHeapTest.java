package io.smtpreach.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProcessRunner;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A scrape of 5,000 endpoints with real results fits in a heap smaller than its own exposition (47
 * MB, the heap 40 MiB): the operator streams it, so its heap need not grow with the endpoints it
 * watches. At the chart's 205 MiB heap, rendering it whole ran out of memory and every scrape
 * answered 500.
 */
class ScrapeHeapTest {
  @Test
  void fiveThousandEndpointsScrapeInAHeapSmallerThanTheirExposition() {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessRunner.Result r =
        ProcessRunner.run(
            List.of(
                java,
                "-Xmx40m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                ScrapeInSmallHeap.class.getName(),
                "5000"),
            120);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).containsPattern("scraped [0-9]{8} bytes");
  }
}
