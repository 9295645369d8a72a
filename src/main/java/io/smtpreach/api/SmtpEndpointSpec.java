package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** What to probe, how, how often and from where. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.host) != has(self.mxDomain)",
    message = "set exactly one of host and mxDomain")
@ValidationRule(
    value =
        "!has(self.timeout) || !has(self.interval) || duration(self.timeout) < duration(self.interval)",
    message = "timeout must be shorter than interval")
@ValidationRule(
    value =
        "!has(self.connectTimeout) || !has(self.timeout)"
            + " || duration(self.connectTimeout) <= duration(self.timeout)",
    message = "connectTimeout must not be longer than timeout")
@ValidationRule(
    value = "!has(self.mxDomain) || !has(self.ports) || self.ports.all(p, p.port == 25)",
    message = "with mxDomain only port 25 can be probed (MX hosts receive mail on 25)")
@ValidationRule(
    value =
        "!has(self.probe) || !has(self.probe.mode) || self.probe.mode != 'Agent'"
            + " || (!has(self.auth) && (!has(self.tls) || !has(self.tls.caBundle)))",
    message =
        "mode Agent cannot use auth or tls.caBundle: agents get no Secret or ConfigMap (use mode"
            + " Pod or Auto)")
public class SmtpEndpointSpec {
  static final String DURATION = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
  static final String HOST =
      "^(\\[?[0-9A-Fa-f:.]+\\]?|[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?\\.?)$";

  @JsonPropertyDescription("The SMTP server: a DNS name or an IP address.")
  @Size(max = 253)
  @Pattern(HOST)
  public String host;

  @JsonPropertyDescription(
      "A mail domain instead of a host: port 25 is probed on its MX hosts, in preference order"
          + " (can this cluster deliver directly?).")
  @Size(max = 253)
  @Pattern(HOST)
  public String mxDomain;

  @JsonPropertyDescription(
      "Ports to probe. Default: 587/StartTLS, 465/Implicit, 2525/StartTLS, and 25/Auto with"
          + " expect Any (clouds often block 25).")
  @Size(min = 1, max = 16)
  public List<PortSpec> ports; // a list map keyed by port (CrdConventions): each port once

  @JsonPropertyDescription(
      "How often to probe, as a duration (30s minimum; default: the operator's, 5m unless set).")
  @Pattern(DURATION)
  @ValidationRule(
      value = "duration(self) >= duration('30s')",
      message = "interval must be at least 30s")
  public String interval;

  @JsonPropertyDescription(
      "Deadline for each port's whole SMTP dialogue (default: the operator's, 10s unless set).")
  @Pattern(DURATION)
  @ValidationRule(
      value = "duration(self) >= duration('1s') && duration(self) <= duration('5m')",
      message = "timeout must be between 1s and 5m")
  public String timeout;

  @JsonPropertyDescription(
      "TCP connect deadline; a port whose connect times out counts as silently dropped (Blocked)"
          + " (default: the operator's, 5s unless set).")
  @Pattern(DURATION)
  @ValidationRule(
      value = "duration(self) >= duration('100ms')",
      message = "connectTimeout must be at least 100ms")
  public String connectTimeout;

  @JsonPropertyDescription("The name sent with EHLO (default smtp-reach.invalid).")
  @Size(max = 253)
  @Pattern("^[!-~]+$")
  public String ehloName;

  @JsonPropertyDescription("Which address family to use: Any, IPv4, IPv6, or Each (both, apart).")
  @Default("Any")
  public IpFamily ipFamily = IpFamily.Any;

  @JsonPropertyDescription("TLS checks: server name, minimum version, extra trusted CAs.")
  public TlsSpec tls;

  @JsonPropertyDescription(
      "An optional credential check: AUTH after TLS, then QUIT. The credential comes from a"
          + " Secret and never appears in status, Events, logs or metrics.")
  public AuthSpec auth;

  @JsonPropertyDescription("Where probe pods run, and how they look to NetworkPolicies.")
  public ProbeSpec probe;
}
