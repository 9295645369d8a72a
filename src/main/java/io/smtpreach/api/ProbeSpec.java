package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/**
 * Where a round's probe pods run and what they look like, so that they share the egress path
 * (NetworkPolicies, egress gateways, NAT per zone) of the workload that really sends mail.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.placement != 'PerNodeGroup' || has(self.nodeLabel)",
    message =
        "nodeLabel is required when placement is PerNodeGroup (e.g. topology.kubernetes.io/zone)")
@ValidationRule(
    value = "self.placement == 'PerNodeGroup' || !has(self.nodeLabel)",
    message = "nodeLabel is only used with placement PerNodeGroup")
@ValidationRule(
    value =
        "!has(self.mode) || self.mode != 'Agent' || (!has(self.labels) && !has(self.annotations)"
            + " && !has(self.nodeSelector) && !has(self.tolerations) && !has(self.resources))",
    message =
        "mode Agent probes from the operator's agents: labels, annotations, nodeSelector,"
            + " tolerations and resources apply to probe pods only (use mode Pod or Auto)")
public class ProbeSpec {
  @JsonPropertyDescription(
      "Auto (default: an agent unless the endpoint needs a pod in its namespace: AUTH, a CA"
          + " bundle, or its own labels, annotations, scheduling or resources), Pod (a probe pod in"
          + " this namespace each round: this workload's egress), or Agent (the operator's resident"
          + " agent of each source: the node and zone egress).")
  @Default("Auto")
  public ProbeMode mode = ProbeMode.Auto;

  @JsonPropertyDescription(
      "Any (one pod, the scheduler's choice), PerNodeGroup (one pod per value of nodeLabel), or"
          + " EachNode (one pod per Ready node).")
  @Default("Any")
  public Placement placement = Placement.Any;

  @JsonPropertyDescription("The node label whose values are the groups, for PerNodeGroup.")
  @Size(max = 316)
  public String nodeLabel;

  @JsonPropertyDescription("Only nodes with these labels run probe pods.")
  public Map<String, String> nodeSelector;

  @JsonPropertyDescription("Tolerations for the probe pods.")
  @Size(max = 32)
  public List<Toleration> tolerations;

  @JsonPropertyDescription(
      "Extra labels for the probe pods, e.g. those your NetworkPolicies select mail senders by.")
  public Map<String, String> labels;

  @JsonPropertyDescription("Extra annotations for the probe pods.")
  public Map<String, String> annotations;

  @JsonPropertyDescription("Resources of the probe container (default: the operator's setting).")
  public ResourceRequirements resources;
}
