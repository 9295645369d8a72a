package io.smtpreach.api;

/** What probed a source: a probe pod in the endpoint's namespace, or the source's probe agent. */
public enum ProbeVia {
  Pod,
  Agent
}
