package io.smtpreach.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A scrape streams to a real Vert.x server's client, and a client that stops reading stops it. */
class ResponseWriterTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aClientThatReadsGetsEveryLineInOrder() throws Exception {
    int port =
        serve(
            request -> {
              ResponseWriter out =
                  new ResponseWriter(request.response().setChunked(true), inSeconds(30));
              try {
                for (int i = 0; i < 200_000; i++) {
                  out.write("line " + i + "\n");
                }
                out.close();
              } catch (IOException e) {
                request.response().reset();
              }
            });

    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();

    assertThat(body.lines()).hasSize(200_000).startsWith("line 0").endsWith("line 199999");
  }

  @Test
  void aClientThatStopsReadingHoldsTheWriterBackUntilItsDeadline() throws Exception {
    CompletableFuture<IOException> givenUp = new CompletableFuture<>();
    AtomicLong written = new AtomicLong();
    int port =
        serve(
            request -> {
              ResponseWriter out =
                  new ResponseWriter(request.response().setChunked(true), inSeconds(2));
              try {
                while (written.get() < 1L << 30) {
                  out.write("a line of the exposition, as long as most are: 0123456789\n");
                  written.addAndGet(60);
                }
                givenUp.completeExceptionally(new AssertionError("1 GiB taken in"));
              } catch (IOException e) {
                givenUp.complete(e);
              }
            });

    try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream request = client.getOutputStream();
      request.write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      request.flush();

      assertThat(givenUp.get(60, TimeUnit.SECONDS)).hasMessageContaining("deadline");
    }
    // What the kernel's socket buffers and one write queue hold, not what was asked for.
    assertThat(written.get()).isLessThan(64L << 20);
  }

  private int serve(Consumer<HttpServerRequest> handler) throws Exception {
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(
                request ->
                    vertx.executeBlocking(
                        () -> {
                          handler.accept(request);
                          return null;
                        },
                        false));
    return server
        .listen(0, "127.0.0.1")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .actualPort();
  }

  private static Instant inSeconds(int seconds) {
    return Instant.now().plusSeconds(seconds);
  }
}
