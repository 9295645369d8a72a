package io.smtpreach.status;

/**
 * Why a probe could not run from a source: these explain {@code ProbesRunning=False} and never
 * change a port's state.
 */
public enum ProbeRunFailure {
  /** The scheduler found no node for the pod (selector, taints, resources). */
  PodUnschedulable,
  /** The probe image could not be pulled. */
  ImagePullFailed,
  /** The pod could not be configured: a missing Secret or ConfigMap key, for example. */
  ProbeMisconfigured,
  /** The probe process ended without a readable result. */
  ProbeCrashed,
  /** The kernel killed the probe at its memory limit before it wrote a result. */
  ProbeOutOfMemory,
  /** The probe ran past its deadline. */
  ProbeTimedOut,
  /** The pod stayed Pending past the start-up deadline for another reason. */
  ProbeNotStarted,
  /** The API server refused the probe pod: a quota or an admission policy, say. */
  PodRejected,
  /** The pod was deleted before it finished. */
  ProbePodDeleted,
  /** No Ready node matches the placement. */
  NoEligibleNodes,
  /** The source's probe agent was missing, not ready, unreachable, busy or gave no valid answer. */
  AgentUnavailable
}
