package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** One port, the TLS mode it should speak, and what is expected of it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PortSpec {
  @JsonPropertyDescription("TCP port, 1-65535.")
  @Required
  @Min(1)
  @Max(65535)
  public Integer port;

  @JsonPropertyDescription(
      "None, StartTLS, Implicit or Auto. Default: Implicit for 465, Auto for 25, StartTLS"
          + " otherwise.")
  public TlsMode tls;

  @JsonPropertyDescription(
      "Reachable (default; Any for port 25, which clouds often block), Blocked (the port must be"
          + " closed: a timeout, refusal or unreachable counts), or Any.")
  public Expectation expect;

  public PortSpec() {}

  public PortSpec(int port, TlsMode tls, Expectation expect) {
    this.port = port;
    this.tls = tls;
    this.expect = expect;
  }
}
