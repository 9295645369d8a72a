package io.smtpreach.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.ReportCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The resident probe agent: an HTTP server that probes, for the operator only, the endpoints each
 * signed request names, with the same engine and the same result lines as a probe pod, and signs
 * its answer. It keeps nothing of a request once it has answered. docs/architecture.md describes
 * the protocol.
 *
 * <ul>
 *   <li>{@code POST /v1/probe}: a {@link ProbeRequest}, signed ({@link AgentSignature}); 200 with
 *       one line per endpoint, each exactly what {@code smtp-reach batch} writes for that endpoint
 *       alone ({@link BatchCodec}, at most {@value ReportCodec#TERMINATION_MESSAGE_LIMIT} bytes),
 *       signed; 401 (no detail) for a missing or wrong signature or a stale timestamp; 413 for a
 *       request beyond the limits; 400 for a malformed one; 503 with {@code Retry-After} when busy
 *       or shutting down.
 *   <li>{@code GET /healthz}: 200 while serving. {@code GET /readyz}: 200 unless shutting down
 *       (under load too: a busy agent answers 503 to each request it cannot take, which tells the
 *       operator more than being taken out of its Service would).
 * </ul>
 */
public final class ProbeAgent implements AutoCloseable {
  public static final String PROBE_PATH = "/v1/probe";
  public static final String HEALTH_PATH = "/healthz";
  public static final String READY_PATH = "/readyz";

  /** What a busy agent asks: about the shortest probe's time, so a retry has a chance. */
  static final int RETRY_AFTER_SECONDS = 5;

  /**
   * Threads beyond one per admitted request: they answer health checks, 401, 413 and 503 at once
   * even when every admitted request is waiting for its probes.
   */
  private static final int SPARE_THREADS = 4;

  /** Connections waiting for a thread; beyond, the accepting thread serves them itself. */
  private static final int CONNECTION_BACKLOG = 256;

  private final HttpServer server;
  private final ThreadPoolExecutor connections;
  private final ProbeWorkers workers;
  private final AgentKeys keys;
  private final ProbeEngine engine;
  private final AgentLimits limits;
  private final Clock clock;
  private final Object lock = new Object();
  private int inFlight;
  private boolean shuttingDown;
  private boolean stopped;

  private ProbeAgent(
      HttpServer server, AgentKeys keys, ProbeEngine engine, AgentLimits limits, Clock clock) {
    this.server = server;
    this.keys = keys;
    this.engine = engine;
    this.limits = limits;
    this.clock = clock;
    this.workers = new ProbeWorkers(limits.maxConcurrent(), limits.maxQueued(), clock);
    AtomicInteger n = new AtomicInteger();
    int threads = limits.maxConcurrent() + limits.maxQueued() + SPARE_THREADS;
    this.connections =
        new ThreadPoolExecutor(
            threads,
            threads,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(CONNECTION_BACKLOG),
            r -> {
              Thread t = new Thread(r, "agent-http-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            },
            // Back-pressure: the accepting thread is busy, so no more connections are taken.
            new ThreadPoolExecutor.CallerRunsPolicy());
    // A pool creates a thread per task until it has them all; a quiet agent gives them back.
    connections.allowCoreThreadTimeOut(true);
    server.setExecutor(connections);
    server.createContext(PROBE_PATH, this::probe);
    server.createContext(HEALTH_PATH, e -> plain(e, 200, "ok\n"));
    server.createContext(READY_PATH, this::ready);
    server.createContext("/", e -> plain(e, 404, ""));
  }

  /** An agent serving on {@code address} (port 0: any free port). */
  public static ProbeAgent start(
      InetSocketAddress address,
      AgentKeys keys,
      ProbeEngine engine,
      AgentLimits limits,
      Clock clock)
      throws IOException {
    HttpServer server = HttpServer.create(address, 64);
    ProbeAgent agent = new ProbeAgent(server, keys, engine, limits, clock);
    server.start();
    return agent;
  }

  /** Where it listens (the port chosen when asked for port 0). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  private void ready(HttpExchange exchange) throws IOException {
    boolean serving;
    synchronized (lock) {
      serving = !shuttingDown;
    }
    plain(exchange, serving ? 200 : 503, serving ? "ok\n" : "shutting down\n");
  }

  private void probe(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("POST")
          || !exchange.getRequestURI().getPath().equals(PROBE_PATH)) {
        exchange.getResponseHeaders().set("Allow", "POST");
        plain(exchange, exchange.getRequestURI().getPath().equals(PROBE_PATH) ? 405 : 404, "");
        return;
      }
      byte[] body = body(exchange);
      if (body == null) {
        plain(exchange, 413, "");
        return;
      }
      String timestamp = exchange.getRequestHeaders().getFirst(AgentSignature.TIMESTAMP_HEADER);
      String signature = exchange.getRequestHeaders().getFirst(AgentSignature.SIGNATURE_HEADER);
      byte[] key =
          AgentSignature.verifyRequest(
              keys.current(), "POST", PROBE_PATH, timestamp, signature, body, clock.instant());
      if (key == null) {
        plain(exchange, 401, "");
        return;
      }
      ProbeRequest request;
      try {
        request = ProbeRequest.decode(body, limits.endpointsPerRequest());
      } catch (ProbeRequest.MalformedRequestException e) {
        plain(exchange, e.tooLarge() ? 413 : 400, e.getMessage() + "\n");
        return;
      }
      Instant now = clock.instant();
      if (!request.deadline().isAfter(now)
          || request.deadline().isAfter(now.plus(limits.maxDeadline()))) {
        plain(exchange, 400, "the deadline is past or too far ahead\n");
        return;
      }
      if (!enter()) {
        busy(exchange);
        return;
      }
      try {
        answer(exchange, request, signature, key);
      } finally {
        leave();
      }
    }
  }

  private void answer(HttpExchange exchange, ProbeRequest request, String signature, byte[] key)
      throws IOException {
    List<PreparedProbe> probes = new ArrayList<>();
    for (List<String> args : request.endpoints()) {
      probes.add(engine.prepare(args));
    }
    List<BatchCodec.Entry> entries;
    try {
      entries = workers.run(probes, request.deadline());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      plain(exchange, 503, "");
      return;
    }
    if (entries == null) {
      busy(exchange);
      return;
    }
    StringBuilder text = new StringBuilder();
    for (BatchCodec.Entry entry : entries) {
      // Each endpoint's line as a pod with that endpoint alone writes it: one line, bounded.
      text.append(BatchCodec.encode(List.of(entry), ReportCodec.TERMINATION_MESSAGE_LIMIT));
      text.append('\n');
    }
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    exchange
        .getResponseHeaders()
        .set(AgentSignature.SIGNATURE_HEADER, AgentSignature.answer(key, signature, 200, bytes));
    send(exchange, 200, bytes);
  }

  /** The body, or null when it is longer than the limit (then not read further). */
  private byte[] body(HttpExchange exchange) throws IOException {
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.strip()) > limits.maxBodyBytes()) {
          return null;
        }
      } catch (NumberFormatException e) {
        return null;
      }
    }
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes(limits.maxBodyBytes() + 1);
      return body.length > limits.maxBodyBytes() ? null : body;
    }
  }

  private boolean enter() {
    synchronized (lock) {
      if (shuttingDown) {
        return false;
      }
      inFlight++;
      return true;
    }
  }

  private void leave() {
    synchronized (lock) {
      inFlight--;
      lock.notifyAll();
    }
  }

  private static void busy(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
    plain(exchange, 503, "");
  }

  private static void plain(HttpExchange exchange, int status, String text) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    send(exchange, status, text.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange exchange, int status, byte[] bytes) throws IOException {
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
    exchange.close();
  }

  /**
   * Stops taking requests (503, and {@code /readyz} says so), lets those in flight answer (each
   * does by its deadline, at most {@link AgentLimits#maxDeadline()} away), then stops listening.
   */
  public synchronized void shutdown() throws InterruptedException {
    long waitUntil = System.nanoTime() + limits.maxDeadline().plusSeconds(5).toNanos();
    synchronized (lock) {
      if (stopped) {
        return;
      }
      shuttingDown = true;
      while (inFlight > 0) {
        long left = waitUntil - System.nanoTime();
        if (left <= 0) {
          break;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      stopped = true;
    }
    server.stop(0);
    connections.shutdownNow();
    workers.close();
  }

  /** Whether requests are still taken. */
  public boolean serving() {
    synchronized (lock) {
      return !shuttingDown;
    }
  }

  @Override
  public void close() {
    try {
      shutdown();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
