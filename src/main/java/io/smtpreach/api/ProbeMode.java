package io.smtpreach.api;

/**
 * How an endpoint is probed: by a probe pod in its namespace each round, by the operator's resident
 * probe agent of each source, or (Auto) by an agent unless the endpoint needs what only a pod in
 * its namespace gives.
 */
public enum ProbeMode {
  Auto,
  Pod,
  Agent
}
