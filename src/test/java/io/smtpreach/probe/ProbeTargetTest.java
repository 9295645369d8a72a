package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ProbeTargetTest {
  @Test
  void aBarePortTakesItsUsualModeAndExpectation() {
    assertThat(ProbeTarget.parse("465"))
        .isEqualTo(new ProbeTarget(465, TlsMode.IMPLICIT, Expectation.REACHABLE));
    assertThat(ProbeTarget.parse("587"))
        .isEqualTo(new ProbeTarget(587, TlsMode.STARTTLS, Expectation.REACHABLE));
    assertThat(ProbeTarget.parse("25"))
        .isEqualTo(new ProbeTarget(25, TlsMode.AUTO, Expectation.ANY));
  }

  @Test
  void modeAndExpectationCanBeGiven() {
    assertThat(ProbeTarget.parse("25:starttls:blocked"))
        .isEqualTo(new ProbeTarget(25, TlsMode.STARTTLS, Expectation.BLOCKED));
    assertThat(ProbeTarget.parse("2525:NONE"))
        .isEqualTo(new ProbeTarget(2525, TlsMode.NONE, Expectation.REACHABLE));
  }

  @Test
  void badTargetsSayWhatIsWrong() {
    assertThatThrownBy(() -> ProbeTarget.parse("70000")).hasMessageContaining("outside 1-65535");
    assertThatThrownBy(() -> ProbeTarget.parse("smtp")).hasMessageContaining("not a port number");
    assertThatThrownBy(() -> ProbeTarget.parse("587:tls13"))
        .hasMessageContaining("unknown TLS mode");
    assertThatThrownBy(() -> ProbeTarget.parse("587:starttls:maybe"))
        .hasMessageContaining("unknown expectation");
  }

  @Test
  void durationsReadTheWayPeopleWriteThem() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("PT1.5S")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThatThrownBy(() -> Durations.parse("5x")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> Durations.parse("5s oops")).hasMessageContaining("not a duration");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThatThrownBy(() -> Durations.parse("soon")).hasMessageContaining("not a duration");
  }

  @Test
  void everyReasonHasOneStateAndACamelCaseName() {
    assertThat(Reason.STARTTLS_NOT_OFFERED.displayName()).isEqualTo("StartTlsNotOffered");
    assertThat(Reason.CONNECT_TIMEOUT.state()).isEqualTo(PortState.BLOCKED);
    for (Reason r : Reason.values()) {
      assertThat(Reason.fromDisplayName(r.displayName())).isEqualTo(r);
    }
  }
}
