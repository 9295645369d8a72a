package io.smtpreach.agent;

import java.time.Duration;

/**
 * Why an agent gave no results for a request. Whatever the kind, nothing was learnt about the
 * endpoints' ports: the operator reports the source's agent as unavailable and keeps every port's
 * state as it was.
 */
public final class AgentFailure extends Exception {
  /** What went wrong, from the operator's side. */
  public enum Kind {
    /** No connection, or it broke before an answer: the agent is down, moving, or unreachable. */
    UNREACHABLE,
    /** The agent is at its limits or shutting down (503); {@link #retryAfter()} says when. */
    BUSY,
    /** The agent refused the signature: a different key, or clocks too far apart (401). */
    UNAUTHORIZED,
    /**
     * An answer that is not the agent's, or not for this request: a wrong or missing signature, a
     * line count other than the endpoints', a line that is not a result, or one too large.
     */
    BAD_ANSWER,
    /** The request's deadline passed before an answer came. */
    TIMED_OUT,
    /**
     * The agent refused the request itself (400, 413, 404...): too large for its limits, or a
     * version it does not speak.
     */
    REJECTED
  }

  private final Kind kind;
  private final Duration retryAfter;

  AgentFailure(Kind kind, String message) {
    this(kind, message, null);
  }

  AgentFailure(Kind kind, String message, Duration retryAfter) {
    super(kind + ": " + message);
    this.kind = kind;
    this.retryAfter = retryAfter;
  }

  public Kind kind() {
    return kind;
  }

  /** For {@link Kind#BUSY}: how long the agent asked to be left alone; otherwise null. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
