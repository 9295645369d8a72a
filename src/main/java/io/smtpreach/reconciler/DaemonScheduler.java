package io.smtpreach.reconciler;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/** A single named daemon thread for the reconciler's own timers: it never holds up shutdown. */
final class DaemonScheduler {
  private DaemonScheduler() {}

  static ScheduledExecutorService named(String name) {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }
}
