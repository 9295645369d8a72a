package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A round's id follows from what started it: deciding twice makes the same pods, not more. */
class RoundIdTest {
  @Test
  void theSameTriggerGivesTheSameIdAndAnotherTriggerAnother() {
    String created = SmtpEndpointReconciler.roundId("u1", "Created", 1, null, null);
    assertThat(created).hasSize(10).matches("[0-9a-f]+");
    assertThat(SmtpEndpointReconciler.roundId("u1", "Created", 1, null, null)).isEqualTo(created);
    assertThat(SmtpEndpointReconciler.roundId("u1", "SpecChanged", 2, null, null))
        .isNotEqualTo(created);
    assertThat(SmtpEndpointReconciler.roundId("u1", "ProbeNow", 1, "a", null))
        .isNotEqualTo(SmtpEndpointReconciler.roundId("u1", "ProbeNow", 1, "b", null));
    assertThat(SmtpEndpointReconciler.roundId("u1", "Interval", 1, null, "t1"))
        .isNotEqualTo(SmtpEndpointReconciler.roundId("u1", "Interval", 1, null, "t2"));
  }

  @Test
  void anEndpointRecreatedUnderTheSameNameNeverSharesARoundWithItsPredecessor() {
    assertThat(SmtpEndpointReconciler.roundId("u2", "Created", 1, null, null))
        .isNotEqualTo(SmtpEndpointReconciler.roundId("u1", "Created", 1, null, null));
  }
}
