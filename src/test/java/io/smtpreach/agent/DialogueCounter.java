package io.smtpreach.agent;

import io.smtpreach.peers.FaultServer;
import java.util.AbstractQueue;
import java.util.Collections;
import java.util.Iterator;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts a fault server's connections: accepted in all, and open at once at most. A connection is
 * open from its accept until the server hears QUIT (the prober waits for the reply to it, so it
 * cannot start its next probe before that) or the connection ends.
 */
final class DialogueCounter {
  final AtomicInteger accepted = new AtomicInteger();
  final AtomicInteger mostAtOnce = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final ThreadLocal<Boolean> ended = ThreadLocal.withInitial(() -> false);

  /** {@code behaviour}, counted; its script should write what it hears into {@link #heard()}. */
  FaultServer.Behaviour around(FaultServer.Behaviour behaviour) {
    return client -> {
      accepted.incrementAndGet();
      mostAtOnce.accumulateAndGet(open.incrementAndGet(), Math::max);
      ended.set(false);
      try {
        behaviour.serve(client);
      } finally {
        end();
      }
    };
  }

  /** Where the server's script writes what it hears: QUIT ends the connection's count. */
  Queue<String> heard() {
    return new AbstractQueue<>() {
      @Override
      public boolean offer(String line) {
        if (line.startsWith("QUIT")) {
          end();
        }
        return true;
      }

      @Override
      public String poll() {
        return null;
      }

      @Override
      public String peek() {
        return null;
      }

      @Override
      public Iterator<String> iterator() {
        return Collections.emptyIterator();
      }

      @Override
      public int size() {
        return 0;
      }
    };
  }

  private void end() {
    if (!ended.get()) {
      ended.set(true);
      open.decrementAndGet();
    }
  }
}
