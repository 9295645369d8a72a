package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/** How certificates are checked. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TlsSpec {
  @JsonPropertyDescription("SNI, and the name the certificate must match (default: host).")
  @Size(max = 253)
  @Pattern(SmtpEndpointSpec.HOST)
  public String serverName;

  @JsonPropertyDescription("The oldest TLS version offered: 1.0, 1.1, 1.2 (default) or 1.3.")
  @Pattern("^1\\.[0-3]$")
  public String minVersion;

  @JsonPropertyDescription("Extra trusted CAs (PEM), on top of the system trust.")
  public CaBundleSource caBundle;

  @JsonPropertyDescription("Accept any certificate (its facts are still reported).")
  public Boolean insecureSkipVerify;
}
