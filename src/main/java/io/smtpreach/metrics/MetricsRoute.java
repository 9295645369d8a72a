package io.smtpreach.metrics;

import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Serves {@code /q/metrics} in place of Quarkus's Prometheus handler, which renders the whole
 * exposition into one String and then one buffer: at 5,000 endpoints with real results that is
 * about 50 MB three times over, and the chart's heap ran out on every scrape. This streams the
 * registry's meters, then {@link EndpointMetrics}, in chunks the scraper takes in as they come.
 */
@Singleton
public class MetricsRoute {
  public static final String PATH = "/q/metrics";

  /**
   * Prometheus gives up at its scrape timeout (10 s unless told); nothing waits longer than this.
   */
  static final Duration SCRAPE_DEADLINE = Duration.ofSeconds(30);

  private static final Logger LOG = Logger.getLogger(MetricsRoute.class);

  private final PrometheusMeterRegistry registry;
  private final EndpointMetrics endpoints;

  public MetricsRoute(PrometheusMeterRegistry registry, EndpointMetrics endpoints) {
    this.registry = registry;
    this.endpoints = endpoints;
  }

  void register(@Observes Router router) {
    // Ahead of Quarkus's route for the same path (order 0 and up), which then never answers.
    router.get(PATH).order(-1).blockingHandler(this::scrape, false);
  }

  /** The registry's meters, then every endpoint's series. */
  public void writeTo(Writer out) throws IOException {
    registry.scrape(out, TextFormat.CONTENT_TYPE_004);
    endpoints.writeTo(out);
  }

  void scrape(RoutingContext context) {
    HttpServerResponse response = context.response();
    response.setChunked(true).putHeader("Content-Type", TextFormat.CONTENT_TYPE_004);
    ResponseWriter out = new ResponseWriter(response, Instant.now().plus(SCRAPE_DEADLINE));
    try {
      writeTo(out);
      out.close();
    } catch (IOException | RuntimeException e) {
      LOG.warnf("A scrape of %s did not finish: %s", PATH, e.getMessage());
      if (!response.headWritten()) {
        response.setStatusCode(500).end();
      } else {
        // Half an exposition must not pass for a whole one: the scraper sees a broken response.
        response.reset();
      }
    }
  }
}
