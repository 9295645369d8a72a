package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HostnameMatcherTest {
  @Test
  void aWildcardCoversExactlyOneLeftmostLabel() {
    assertThat(HostnameMatcher.matchesPattern("*.example.com", "smtp.example.com")).isTrue();
    assertThat(HostnameMatcher.matchesPattern("*.example.com", "example.com")).isFalse();
    assertThat(HostnameMatcher.matchesPattern("*.example.com", "a.b.example.com")).isFalse();
    assertThat(HostnameMatcher.matchesPattern("*.com", "example.com")).isFalse();
  }

  @Test
  void plainNamesMatchExactly() {
    assertThat(HostnameMatcher.matchesPattern("smtp.example.com", "smtp.example.com")).isTrue();
    assertThat(HostnameMatcher.matchesPattern("smtp.example.com", "mail.example.com")).isFalse();
  }
}
