package io.smtpreach.agent;

import java.time.Duration;

/**
 * How much one agent takes on: probes at once, probes waiting for a turn, endpoints and bytes per
 * request, and how far ahead a request's deadline may be. Every bound answers at once when it is
 * reached (503 busy, 413 too large), so an agent's memory and threads stay bounded whatever is
 * sent.
 *
 * @param maxConcurrent endpoints probed at once (each probe opens a connection per port)
 * @param maxQueued endpoints waiting for one of those turns, whichever requests they came in
 * @param maxEndpoints endpoints in one request
 * @param maxBodyBytes bytes of one request's body
 * @param maxDeadline how far ahead of the agent's clock a request's deadline may be
 */
public record AgentLimits(
    int maxConcurrent, int maxQueued, int maxEndpoints, int maxBodyBytes, Duration maxDeadline) {
  public static final int DEFAULT_MAX_CONCURRENT = 16;
  public static final int DEFAULT_MAX_QUEUED = 64;

  public AgentLimits {
    if (maxConcurrent < 1 || maxQueued < 0 || maxEndpoints < 1 || maxBodyBytes < 64) {
      throw new IllegalArgumentException("agent limits must be positive");
    }
  }

  /** 64 endpoints of 4 KiB of arguments each, deadlines up to ten minutes ahead. */
  public static AgentLimits defaults() {
    return new AgentLimits(
        DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUED, 64, 256 * 1024, Duration.ofMinutes(10));
  }

  public AgentLimits withConcurrency(int maxConcurrent, int maxQueued) {
    return new AgentLimits(maxConcurrent, maxQueued, maxEndpoints, maxBodyBytes, maxDeadline);
  }

  public AgentLimits withMaxBodyBytes(int bytes) {
    return new AgentLimits(maxConcurrent, maxQueued, maxEndpoints, bytes, maxDeadline);
  }

  /**
   * The endpoints one request may have: never more than fit in the agent at once, or such a request
   * would be busy forever.
   */
  int endpointsPerRequest() {
    return Math.min(maxEndpoints, maxConcurrent + maxQueued);
  }
}
