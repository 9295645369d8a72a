package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** Where the credential for the AUTH check is. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AuthSpec {
  @JsonPropertyDescription("A Secret in the endpoint's namespace.")
  @Required
  public SecretRef secretRef;

  /** A Secret and the keys of the user name and password in it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SecretRef {
    @JsonPropertyDescription("The Secret's name.")
    @Required
    public String name;

    @JsonPropertyDescription("The key of the user name (default username).")
    public String usernameKey;

    @JsonPropertyDescription("The key of the password (default password).")
    public String passwordKey;
  }
}
