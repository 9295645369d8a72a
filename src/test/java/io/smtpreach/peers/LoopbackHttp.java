package io.smtpreach.peers;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * GET or POST on a local test process (the operator, Prometheus, Alertmanager), never throwing:
 * answers are data.
 */
public final class LoopbackHttp {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private LoopbackHttp() {}

  /** {@code "<status> <body>"}, or {@code "000 <error>"} when nothing answers. */
  public static String get(int port, String path) {
    return send(request(port, path).build());
  }

  /** As {@link #get}, for a POST of {@code json}. */
  public static String post(int port, String path, String json) {
    return send(
        request(port, path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  private static HttpRequest.Builder request(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
  }

  private static String send(HttpRequest request) {
    try {
      HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (IOException e) {
      return "000 " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "000 interrupted";
    }
  }
}
