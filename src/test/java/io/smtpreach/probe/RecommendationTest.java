package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RecommendationTest {
  private static ProbeResult result(int port, TlsMode mode, Reason reason) {
    return ProbeResult.builder("h", new ProbeTarget(port, mode), IpFamily.ANY)
        .negotiated(reason == Reason.OK ? mode : null)
        .build(reason, "");
  }

  @Test
  void prefers587Then465Then2525() {
    assertThat(
            Recommendation.of(
                List.of(
                    result(465, TlsMode.IMPLICIT, Reason.OK),
                    result(587, TlsMode.STARTTLS, Reason.OK))))
        .contains(new ProbeTarget(587, TlsMode.STARTTLS));
    assertThat(
            Recommendation.of(
                List.of(
                    result(587, TlsMode.STARTTLS, Reason.CONNECT_TIMEOUT),
                    result(465, TlsMode.IMPLICIT, Reason.OK))))
        .contains(new ProbeTarget(465, TlsMode.IMPLICIT));
    assertThat(
            Recommendation.of(
                List.of(
                    result(587, TlsMode.STARTTLS, Reason.CONNECT_TIMEOUT),
                    result(2525, TlsMode.STARTTLS, Reason.OK))))
        .contains(new ProbeTarget(2525, TlsMode.STARTTLS));
  }

  @Test
  void neverRecommendsPort25OrPlaintext() {
    assertThat(
            Recommendation.of(
                List.of(
                    result(25, TlsMode.STARTTLS, Reason.OK), result(587, TlsMode.NONE, Reason.OK))))
        .isEmpty();
  }

  @Test
  void anOptionThatFailsFromOneFamilyIsNotRecommended() {
    ProbeResult v4 =
        ProbeResult.builder("h", new ProbeTarget(587, TlsMode.STARTTLS), IpFamily.V4)
            .negotiated(TlsMode.STARTTLS)
            .build(Reason.OK, "");
    ProbeResult v6 =
        ProbeResult.builder("h", new ProbeTarget(587, TlsMode.STARTTLS), IpFamily.V6)
            .build(Reason.CONNECT_TIMEOUT, "");
    assertThat(Recommendation.of(List.of(v4, v6))).isEmpty();
  }
}
