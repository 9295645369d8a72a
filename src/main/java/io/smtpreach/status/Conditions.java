package io.smtpreach.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.util.List;
import java.util.Optional;

/** Sets metav1.Conditions the Kubernetes way: the transition time moves only when status does. */
public final class Conditions {
  private Conditions() {}

  public static void set(
      List<Condition> conditions,
      String type,
      String status,
      String reason,
      String message,
      Long generation,
      String now) {
    Optional<Condition> old = find(conditions, type);
    String since =
        old.filter(c -> status.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElse(now);
    conditions.removeIf(c -> type.equals(c.getType()));
    conditions.add(
        new ConditionBuilder()
            .withType(type)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message == null ? "" : message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(since)
            .build());
    conditions.sort(java.util.Comparator.comparingInt(c -> order(c.getType())));
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static int order(String type) {
    return switch (type) {
      case ConditionTypes.READY -> 0;
      case ConditionTypes.SECURE_SUBMISSION_AVAILABLE -> 1;
      case ConditionTypes.PROBES_RUNNING -> 2;
      default -> 3;
    };
  }
}
