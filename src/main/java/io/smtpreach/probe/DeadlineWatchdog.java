package io.smtpreach.probe;

import java.io.IOException;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Closes a port's sockets when its deadline passes. A socket timeout bounds one read and restarts
 * with every byte, and bounds no write: a server that sends a byte just inside the read timeout, a
 * TLS handshake sent a byte at a time, or a write blocked because the server stopped reading (a TCP
 * window of zero) would otherwise outlive any deadline. Closing the plain socket ends whatever
 * blocks on it, TLS layered over it included. One daemon thread serves every port of the process.
 */
final class DeadlineWatchdog {
  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private DeadlineWatchdog() {}

  private static ScheduledThreadPoolExecutor timer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "smtp-probe-deadline");
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true); // a finished port leaves nothing queued behind
    return timer;
  }

  /** Starts watching for {@code deadline}; close the watch when the port is done. */
  static Watch arm(Deadline deadline) {
    Watch watch = new Watch();
    long delay = Math.max(0, deadline.endNanos() - System.nanoTime());
    watch.timer = TIMER.schedule(watch::expire, delay, TimeUnit.NANOSECONDS);
    return watch;
  }

  /** The sockets of one port, closed together when its deadline passes. */
  static final class Watch implements AutoCloseable {
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean expired;
    private ScheduledFuture<?> timer;

    /** Closes {@code socket} at the deadline, or at once if it has passed. */
    void watch(Socket socket) {
      sockets.add(socket);
      if (expired) {
        closeQuietly(socket);
      }
    }

    /** True once the deadline passed and the sockets were closed. */
    boolean expired() {
      return expired;
    }

    private void expire() {
      expired = true;
      for (Socket s : sockets) {
        closeQuietly(s);
      }
    }

    @Override
    public void close() {
      timer.cancel(false);
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException e) {
        // closed is closed
      }
    }
  }
}
