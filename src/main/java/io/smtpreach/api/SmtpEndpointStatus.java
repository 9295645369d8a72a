package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the last probe rounds found; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SmtpEndpointStatus {
  @JsonPropertyDescription("The spec generation the status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("When the last round that ran started.")
  public String lastProbeTime;

  @JsonPropertyDescription("When the last round in which every probe pod ran started.")
  public String lastSuccessfulProbeTime;

  @JsonPropertyDescription("When the next round is due.")
  public String nextProbeTime;

  @JsonPropertyDescription(
      "The first working secure submission option, in the order 587/StartTLS, 465/Implicit,"
          + " 2525/StartTLS; None when none works.")
  public String recommended;

  @JsonPropertyDescription("One line: each port's state.")
  public String summary;

  @JsonPropertyDescription("Ready, SecureSubmissionAvailable and ProbesRunning.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Each port's state, with the facts of its last probe.")
  public List<PortStatus> ports = new ArrayList<>();

  @JsonPropertyDescription(
      "Per source, the address its mail leaves from, its reverse DNS and the blocklists that list"
          + " it.")
  public List<EgressStatus> egress = new ArrayList<>();

  @JsonPropertyDescription(
      "The round in progress, or the next interval round (its startedAt still in the future).")
  public RoundStatus round;

  @JsonPropertyDescription("The last value of the probe-now annotation that started a round.")
  public String probeNowHandled;
}
