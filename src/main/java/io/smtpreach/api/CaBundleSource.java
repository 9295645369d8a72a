package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.SecretKeySelector;

/** A PEM bundle in a ConfigMap or a Secret of the endpoint's namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.configMapKeyRef) != has(self.secretKeyRef)",
    message = "set exactly one of configMapKeyRef and secretKeyRef")
public class CaBundleSource {
  @JsonPropertyDescription("A key of a ConfigMap holding PEM certificates.")
  public ConfigMapKeySelector configMapKeyRef;

  @JsonPropertyDescription("A key of a Secret holding PEM certificates.")
  public SecretKeySelector secretKeyRef;
}
