package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One source's verdict on a port: a zone, a node pool, a node, or "any". */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SourceStatus {
  @JsonPropertyDescription("The node-label value, node name, or any.")
  public String name;

  @JsonPropertyDescription(
      "IPv4 or IPv6, with ipFamily Each only: then each family of a source is its own entry.")
  public String family;

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

  @JsonPropertyDescription(
      "The TLS session and certificate this source saw: an interception on one path shows here.")
  public PortStatus.TlsFacts tlsFacts;
}
