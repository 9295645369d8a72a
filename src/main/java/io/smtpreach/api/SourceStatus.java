package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One source's verdict on a port: a zone, a node pool, a node, or "any". */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SourceStatus {
  @JsonPropertyDescription("The node-label value, node name, or any.")
  public String name;

  @JsonPropertyDescription("The node the probe pod ran on.")
  public String node;

  @JsonPropertyDescription("What probed: Pod (a probe pod in this namespace) or Agent.")
  public String via;

  public String state;
  public String reason;
  public String message;
  public Boolean asExpected;

  @JsonPropertyDescription("When this source's state last changed.")
  public String since;

  @JsonPropertyDescription("Reachable with TLS: usable for submission with credentials.")
  public Boolean secure;

  @JsonPropertyDescription("Milliseconds per phase of this source's last probe.")
  public PortStatus.Timings timings;

  @JsonPropertyDescription("The certificate's notAfter as this source saw it, RFC 3339.")
  public String certificateNotAfter;
}
