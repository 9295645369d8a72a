package io.smtpreach.peers;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GET on a local test process (the operator, Prometheus), never throwing: answers are data. */
public final class LoopbackHttp {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private LoopbackHttp() {}

  /** {@code "<status> <body>"}, or {@code "000 <error>"} when nothing answers. */
  public static String get(int port, String path) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (IOException e) {
      return "000 " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "000 interrupted";
    }
  }
}
