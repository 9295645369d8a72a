package io.smtpreach.agent;

import io.smtpreach.probe.BatchCodec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs requests' probes, at most {@code maxConcurrent} at once with at most {@code maxQueued}
 * waiting for a turn; a request whose probes would go beyond that is refused whole, at once, so the
 * operator learns the agent is busy instead of waiting behind an unbounded queue.
 *
 * <p>No probe works past its request's deadline: one whose budget (its own timeout and slack) no
 * longer fits when its turn comes is not started, and a started one ends within its budget whatever
 * its servers do. So nothing is ever cancelled or interrupted; a request that stops waiting at its
 * deadline leaves only probes that end by then on their own, and each gives its place back when it
 * ends.
 */
final class ProbeWorkers implements AutoCloseable {
  private final Semaphore places;
  private final ThreadPoolExecutor pool;
  private final Clock clock;

  ProbeWorkers(int maxConcurrent, int maxQueued, Clock clock) {
    this.places = new Semaphore(maxConcurrent + maxQueued);
    this.clock = clock;
    AtomicInteger n = new AtomicInteger();
    // The places bound the queue: it can never hold more than every place.
    this.pool =
        new ThreadPoolExecutor(
            maxConcurrent,
            maxConcurrent,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(maxConcurrent + maxQueued),
            r -> {
              Thread t = new Thread(r, "agent-probe-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true); // a quiet agent gives its threads back
  }

  /**
   * The probes' result lines, in order, those not done by {@code deadline} said to be so; or null,
   * at once, when there are not enough places for them all (nothing is started then).
   */
  List<BatchCodec.Entry> run(List<PreparedProbe> probes, Instant deadline)
      throws InterruptedException {
    int runnable = (int) probes.stream().filter(p -> !p.refused()).count();
    if (!places.tryAcquire(runnable)) {
      return null;
    }
    List<Future<BatchCodec.Entry>> futures = new ArrayList<>();
    for (PreparedProbe probe : probes) {
      futures.add(
          probe.refused()
              ? CompletableFuture.completedFuture(probe.run())
              : pool.submit(() -> runInTime(probe, deadline)));
    }
    List<BatchCodec.Entry> entries = new ArrayList<>();
    for (Future<BatchCodec.Entry> f : futures) {
      entries.add(await(f, deadline));
    }
    return entries;
  }

  private BatchCodec.Entry runInTime(PreparedProbe probe, Instant deadline) {
    try {
      Duration left = Duration.between(clock.instant(), deadline);
      if (left.compareTo(probe.budget()) < 0) {
        return BatchCodec.Entry.failed(
            "not probed: "
                + Math.max(0, left.toMillis())
                + " ms were left before the request's deadline, and the probe may take "
                + probe.budget().toMillis()
                + " ms");
      }
      return probe.run();
    } finally {
      places.release();
    }
  }

  private BatchCodec.Entry await(Future<BatchCodec.Entry> f, Instant deadline)
      throws InterruptedException {
    long left = Math.max(0, Duration.between(clock.instant(), deadline).toNanos());
    try {
      return f.get(left, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      return BatchCodec.Entry.failed("not finished by the request's deadline");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return BatchCodec.Entry.failed(cause.getClass().getSimpleName() + ": " + cause.getMessage());
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
