package io.smtpreach.metrics;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A writer onto a chunked HTTP response, for a worker thread: it sends 64 KiB chunks, and before
 * each waits, until an absolute deadline, for the client to have taken in what was sent, so that a
 * slow scraper holds back the rendering instead of filling the heap.
 */
final class ResponseWriter extends Writer {
  private static final int CHUNK = 64 * 1024;

  /** How often a wait for the client looks whether it went away. */
  private static final Duration CLOSED_CHECK = Duration.ofSeconds(1);

  private final HttpServerResponse response;
  private final Instant deadline;
  private final StringBuilder chunk = new StringBuilder(CHUNK);

  ResponseWriter(HttpServerResponse response, Instant deadline) {
    this.response = response;
    this.deadline = deadline;
  }

  @Override
  public void write(char[] chars, int offset, int length) throws IOException {
    chunk.append(chars, offset, length);
    sendIfFull();
  }

  @Override
  public void write(String s, int offset, int length) throws IOException {
    chunk.append(s, offset, offset + length);
    sendIfFull();
  }

  private void sendIfFull() throws IOException {
    if (chunk.length() >= CHUNK) {
      flush();
    }
  }

  @Override
  public void flush() throws IOException {
    if (chunk.length() == 0) {
      return;
    }
    awaitRoom();
    response.write(Buffer.buffer(chunk.toString()));
    chunk.setLength(0);
  }

  /** Sends what is left and ends the response. */
  @Override
  public void close() throws IOException {
    flush();
    response.end();
  }

  private void awaitRoom() throws IOException {
    while (true) {
      if (response.closed()) {
        throw new IOException("the scraper closed the connection");
      }
      CompletableFuture<Void> drained = new CompletableFuture<>();
      response.drainHandler(ignored -> drained.complete(null));
      if (!response.writeQueueFull()) {
        return;
      }
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative() || left.isZero()) {
        throw new IOException("the scraper took in too little before the scrape's deadline");
      }
      try {
        drained.get(Math.min(left.toMillis(), CLOSED_CHECK.toMillis()) + 1, TimeUnit.MILLISECONDS);
      } catch (TimeoutException stillFull) {
        // Look again: gone, past the deadline, or still to wait.
      } catch (ExecutionException impossible) {
        throw new IllegalStateException(impossible);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while the scraper took in the exposition", e);
      }
    }
  }
}
