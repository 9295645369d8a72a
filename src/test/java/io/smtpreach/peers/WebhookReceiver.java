package io.smtpreach.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What an Alertmanager webhook receiver sees: a tiny HTTP server on loopback that keeps every
 * notification (the webhook's JSON body: status, receiver, groupLabels, alerts) in arrival order.
 */
public final class WebhookReceiver implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final List<JsonNode> notifications = new CopyOnWriteArrayList<>();

  private WebhookReceiver(HttpServer server) {
    this.server = server;
  }

  public static WebhookReceiver start() {
    try {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      WebhookReceiver receiver = new WebhookReceiver(server);
      server.createContext(
          "/",
          exchange -> {
            try (exchange) {
              byte[] body = exchange.getRequestBody().readAllBytes();
              try {
                receiver.notifications.add(JSON.readTree(body));
                exchange.sendResponseHeaders(200, -1);
              } catch (IOException e) {
                exchange.sendResponseHeaders(400, -1);
              }
            }
          });
      server.start();
      return receiver;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The URL to give Alertmanager's webhook_configs. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  /** Every notification received so far, oldest first. */
  public List<JsonNode> notifications() {
    return List.copyOf(notifications);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
