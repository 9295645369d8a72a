package io.smtpreach.api;

import com.fasterxml.jackson.databind.node.TextNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The OpenAPI schema of metav1.Condition as Kubernetes publishes it (k8s.io/apimachinery
 * pkg/apis/meta/v1/types.go): required fields, patterns and bounds, so the API server rejects a
 * malformed condition from any writer, not only ours.
 */
final class MetaV1ConditionSchema {
  private MetaV1ConditionSchema() {}

  static JSONSchemaProps schema() {
    return new JSONSchemaPropsBuilder()
        .withType("object")
        .withDescription("Condition contains details for one aspect of the current state.")
        .withRequired("type", "status", "lastTransitionTime", "reason", "message")
        .withProperties( // sorted, as the generator writes properties
            new TreeMap<>(
                Map.of(
                    "type",
                    string(
                        "Type of condition in CamelCase or in foo.example.com/CamelCase.",
                        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                            + "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
                        null,
                        316L),
                    "status",
                    new JSONSchemaPropsBuilder()
                        .withType("string")
                        .withDescription("Status of the condition, one of True, False, Unknown.")
                        .withEnum(
                            List.of(
                                TextNode.valueOf("True"),
                                TextNode.valueOf("False"),
                                TextNode.valueOf("Unknown")))
                        .build(),
                    "observedGeneration",
                    new JSONSchemaPropsBuilder()
                        .withType("integer")
                        .withFormat("int64")
                        .withMinimum(0.0)
                        .withDescription(
                            "The .metadata.generation the condition was set based upon.")
                        .build(),
                    "lastTransitionTime",
                    new JSONSchemaPropsBuilder()
                        .withType("string")
                        .withFormat("date-time")
                        .withDescription(
                            "The last time the condition went from one status to another.")
                        .build(),
                    "reason",
                    string(
                        "A programmatic identifier for the reason of the last transition, CamelCase.",
                        "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
                        1L,
                        1024L),
                    "message",
                    string("A human readable message about the transition.", null, null, 32768L))))
        .build();
  }

  private static JSONSchemaProps string(
      String description, String pattern, Long minLength, Long maxLength) {
    return new JSONSchemaPropsBuilder()
        .withType("string")
        .withDescription(description)
        .withPattern(pattern)
        .withMinLength(minLength)
        .withMaxLength(maxLength)
        .build();
  }
}
