package io.smtpreach.api;

/** Where a round's probe pods run. */
public enum Placement {
  /** One pod, wherever the scheduler puts it. */
  Any,
  /** One pod per distinct value of a node label among Ready nodes (per zone, per node pool). */
  PerNodeGroup,
  /** One pod per Ready node: for small clusters. */
  EachNode
}
