package io.smtpreach.probe;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** What the server's leaf certificate says, kept whether or not it validated. */
public record CertificateFacts(
    String subject,
    String issuer,
    List<String> subjectAltNames,
    Instant notBefore,
    Instant notAfter) {

  public CertificateFacts {
    subjectAltNames = subjectAltNames == null ? List.of() : List.copyOf(subjectAltNames);
  }

  /** Whole days until {@link #notAfter()}; negative once expired. */
  public long daysLeft(Instant now) {
    return Math.floorDiv(Duration.between(now, notAfter).toSeconds(), 86_400L);
  }
}
