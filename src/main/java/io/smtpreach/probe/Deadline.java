package io.smtpreach.probe;

import java.time.Duration;

/**
 * The end of one target's time budget; every blocking step is bounded by it. Socket timeouts bound
 * single reads within it, {@link DeadlineWatchdog} closes the port's sockets when it passes, so a
 * port's result comes by the deadline plus {@link #SLACK} whatever the server does.
 */
record Deadline(long endNanos) {
  /**
   * How long after its deadline a port's result may come: the watchdog's close, and the failure it
   * causes, take milliseconds; the rest is room for a busy machine.
   */
  static final Duration SLACK = Duration.ofSeconds(1);

  static Deadline after(Duration budget) {
    return new Deadline(System.nanoTime() + budget.toNanos());
  }

  Duration remaining() {
    return Duration.ofNanos(Math.max(0, endNanos - System.nanoTime()));
  }

  /**
   * {@code limit} or what is left of the budget, whichever is shorter, as socket milliseconds (at
   * least 1).
   */
  int boundMillis(Duration limit) {
    long ms = Math.min(limit.toMillis(), remaining().toMillis());
    return (int) Math.max(1, Math.min(ms, Integer.MAX_VALUE));
  }

  /** True when {@code limit} is cut short by the overall budget. */
  boolean cuts(Duration limit) {
    return remaining().compareTo(limit) < 0;
  }
}
