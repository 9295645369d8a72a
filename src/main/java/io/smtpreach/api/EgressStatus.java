package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * What one source's mail leaves from, as receivers judge it: the address, who saw it, its reverse
 * DNS and the blocklists that name it. Kept small: one entry per source.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class EgressStatus {
  @JsonPropertyDescription("The source: the node-label value, node name, or any.")
  public String source;

  @JsonPropertyDescription("The node the probe pod ran on.")
  public String node;

  @JsonPropertyDescription(
      "The address the server saw (echoed in its EHLO reply) or, when no server said, the local"
          + " address the probe bound.")
  public String address;

  @JsonPropertyDescription(
      "Server: a server echoed the address (after any NAT). Local: no server said; the address is"
          + " the probe's own, before any NAT.")
  public String seenBy;

  @JsonPropertyDescription("The address's PTR name; absent when it has none or it was not asked.")
  public String ptr;

  @JsonPropertyDescription(
      "True when the PTR name resolves back to the address (forward-confirmed reverse DNS), false"
          + " when it does not or there is no PTR; absent when unknown (the lookup failed, or a"
          + " private address no receiver sees).")
  public Boolean ptrConfirmed;

  @JsonPropertyDescription("The configured DNS blocklists that list the address.")
  public List<String> listedOn = new ArrayList<>();

  @JsonPropertyDescription(
      "Each configured blocklist's answer (ports 25 and mxDomain only): Listed, NotListed,"
          + " ListError (the list's own error, 127.255.255.x) or LookupFailed.")
  public List<Blocklist> lists = new ArrayList<>();

  @JsonPropertyDescription("When the address last changed.")
  public String since;

  /** One blocklist's answer. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Blocklist {
    @JsonPropertyDescription("The list's DNS zone.")
    public String name;

    public String verdict;

    @JsonPropertyDescription("The listing's TXT reason, or why there is no verdict.")
    public String detail;
  }
}
