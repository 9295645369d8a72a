package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** A probe round: one pod per source, started together. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RoundStatus {
  @JsonPropertyDescription(
      "The round's id, also the value of its pods' endpoint.smtpreach.io/NAME label.")
  public String id;

  @JsonPropertyDescription("When its pods were created.")
  public String startedAt;

  @JsonPropertyDescription("Why it started: Interval, SpecChanged, ProbeNow or Created.")
  public String trigger;

  @JsonPropertyDescription("The spec generation it probes.")
  public Long generation;

  @JsonPropertyDescription("How many probe pods it has.")
  public Integer pods;

  @JsonPropertyDescription("The sources its pods probe from.")
  public List<String> sources;
}
