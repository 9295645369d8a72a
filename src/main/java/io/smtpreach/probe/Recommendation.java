package io.smtpreach.probe;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The submission option the SMTP port guides recommend: 587 with STARTTLS, else 465 with implicit
 * TLS, else 2525 with STARTTLS; never port 25, never plaintext.
 */
public final class Recommendation {

  /** Preference order; AUTO results count for the mode they negotiated. */
  public static final List<ProbeTarget> ORDER =
      List.of(
          new ProbeTarget(587, TlsMode.STARTTLS),
          new ProbeTarget(465, TlsMode.IMPLICIT),
          new ProbeTarget(2525, TlsMode.STARTTLS));

  private Recommendation() {}

  public static Optional<ProbeTarget> of(Collection<ProbeResult> results) {
    for (ProbeTarget option : ORDER) {
      boolean works =
          results.stream()
              .filter(r -> r.target().port() == option.port())
              .filter(r -> r.negotiated() == option.mode())
              .anyMatch(ProbeResult::isSecure);
      // With several sources or families, the option must work from all of them.
      boolean failsSomewhere =
          results.stream()
              .filter(r -> r.target().port() == option.port())
              .filter(r -> r.target().mode() == option.mode() || r.target().mode() == TlsMode.AUTO)
              .anyMatch(r -> !r.isSecure());
      if (works && !failsSomewhere) {
        return Optional.of(option);
      }
    }
    return Optional.empty();
  }
}
