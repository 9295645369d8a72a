package io.smtpreach.probe;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Everything one probe run found: a host (or, in MX mode, a mail domain and its MX hosts), one
 * result per target and family, and the submission option the SMTP guides would pick.
 *
 * @param subject the host probed, or the mail domain in MX mode
 * @param mx true when {@link #subject()} is a mail domain whose MX hosts were probed on port 25
 * @param truncated how many results were left out to respect a size bound (0 normally)
 * @param egress the address this run's mail leaves from and how receivers judge it; null when no
 *     connection got that far, or a size bound left it out
 */
public record ProbeReport(
    String subject,
    boolean mx,
    Instant startedAt,
    List<ProbeResult> results,
    int truncated,
    EgressFacts egress) {

  public ProbeReport {
    results = List.copyOf(results);
  }

  public ProbeReport(
      String subject, boolean mx, Instant startedAt, List<ProbeResult> results, int truncated) {
    this(subject, mx, startedAt, results, truncated, null);
  }

  public ProbeReport(String subject, boolean mx, Instant startedAt, List<ProbeResult> results) {
    this(subject, mx, startedAt, results, 0);
  }

  /** The same report with these egress facts. */
  public ProbeReport withEgress(EgressFacts facts) {
    return new ProbeReport(subject, mx, startedAt, results, truncated, facts);
  }

  /** The first working secure submission option, in the order 587, 465, 2525; empty if none. */
  public Optional<ProbeTarget> recommended() {
    return Recommendation.of(results);
  }

  /** True when every result matches its target's expectation. */
  public boolean allAsExpected() {
    return results.stream().allMatch(ProbeResult::matchesExpectation);
  }
}
