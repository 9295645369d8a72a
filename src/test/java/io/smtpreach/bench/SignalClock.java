package io.smtpreach.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * When each signal of a benchmark first showed after a start instant (the fault put in place): some
 * signals are polled on a short period, each on its own thread so that a slow answer from one
 * source delays no other, and some are marked by a watch as they arrive. Only the first sighting of
 * a signal counts; a poll that throws counts as not seen, and its error is kept for the report of a
 * signal that never showed.
 */
final class SignalClock<S> implements AutoCloseable {
  private final Instant start;
  private final Map<S, Instant> seen = new ConcurrentHashMap<>();
  private final Map<S, RuntimeException> lastError = new ConcurrentHashMap<>();
  private final ScheduledExecutorService pollers =
      Executors.newScheduledThreadPool(
          4,
          r -> {
            Thread t = new Thread(r, "signal-clock");
            t.setDaemon(true);
            return t;
          });

  SignalClock(Instant start) {
    this.start = start;
  }

  /** Checks {@code shows} every {@code period} until it first holds. */
  void poll(S signal, Duration period, BooleanSupplier shows) {
    pollers.scheduleWithFixedDelay(
        () -> {
          if (seen.containsKey(signal)) {
            return;
          }
          try {
            if (shows.getAsBoolean()) {
              mark(signal);
            }
          } catch (RuntimeException e) {
            lastError.put(signal, e);
          }
        },
        0,
        period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** The signal shows now (a watch saw it arrive); later calls change nothing. */
  void mark(S signal) {
    seen.putIfAbsent(signal, Instant.now());
  }

  boolean sawAll(Collection<S> signals) {
    return seen.keySet().containsAll(signals);
  }

  /** From the start to the signal's first sighting. */
  Optional<Duration> latency(S signal) {
    return Optional.ofNullable(seen.get(signal)).map(t -> Duration.between(start, t));
  }

  /** What the signals not seen yet are waiting on: for the message of a run that gave up. */
  String pending(Collection<S> signals) {
    StringBuilder out = new StringBuilder();
    for (S s : signals) {
      if (!seen.containsKey(s)) {
        RuntimeException e = lastError.get(s);
        out.append(s).append(e == null ? " (not yet)" : " (last poll: " + e + ")").append("; ");
      }
    }
    return out.toString();
  }

  @Override
  public void close() {
    pollers.shutdownNow();
  }
}
