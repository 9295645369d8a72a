package io.smtpreach.agent;

import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.MalformedReportException;
import io.smtpreach.probe.ReportCodec;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the operator calls to have an agent probe a source's endpoints: signs the request, enforces
 * the caller's deadline itself (whatever the agent or the network does, the call returns by it),
 * and checks the answer's signature, size and form before returning one result per endpoint. Safe
 * for concurrent use; one client serves every agent.
 */
public final class AgentClient {
  /**
   * The agent is asked to answer this much before the caller's deadline (at most a quarter of the
   * time left), so that its answer still has time to arrive.
   */
  static final Duration ANSWER_MARGIN = Duration.ofMillis(500);

  private final HttpClient http;
  private final AgentKeys keys;
  private final Clock clock;

  /** A client signing with {@code key} (the first key of the agents' key file). */
  public AgentClient(byte[] key) {
    this(AgentKeys.of(key), Clock.systemUTC());
  }

  AgentClient(AgentKeys keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /**
   * Has the agent at {@code agent} (e.g. {@code http://10.0.0.7:8080}) probe each endpoint's
   * arguments (as {@code smtp-reach batch} takes them, one list per endpoint), and returns their
   * results in the same order, by {@code deadline}.
   *
   * @throws AgentFailure when there are no results to return, with the kind of failure
   */
  public List<BatchCodec.Entry> probe(URI agent, List<List<String>> endpointsArgs, Instant deadline)
      throws AgentFailure, InterruptedException {
    if (endpointsArgs.isEmpty()) {
      return List.of(); // nothing to ask, and an agent refuses an empty request
    }
    Instant now = clock.instant();
    Duration left = Duration.between(now, deadline);
    if (left.isNegative() || left.isZero()) {
      throw new AgentFailure(AgentFailure.Kind.TIMED_OUT, "the deadline has passed");
    }
    Duration margin = min(ANSWER_MARGIN, left.dividedBy(4));
    byte[] body = new ProbeRequest(deadline.minus(margin), endpointsArgs).encode();
    long timestamp = now.getEpochSecond();
    byte[] key = keys.signing();
    String signature = AgentSignature.request(key, "POST", ProbeAgent.PROBE_PATH, timestamp, body);
    HttpRequest request =
        HttpRequest.newBuilder(agent.resolve(ProbeAgent.PROBE_PATH))
            .timeout(left)
            .header("Content-Type", "text/plain; charset=utf-8")
            .header(AgentSignature.TIMESTAMP_HEADER, Long.toString(timestamp))
            .header(AgentSignature.SIGNATURE_HEADER, signature)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    int maxAnswer = endpointsArgs.size() * (ReportCodec.TERMINATION_MESSAGE_LIMIT + 1);
    CompletableFuture<HttpResponse<byte[]>> sent =
        http.sendAsync(request, info -> new BoundedBody(maxAnswer));
    HttpResponse<byte[]> response;
    try {
      response = sent.get(left.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      sent.cancel(true);
      throw new AgentFailure(AgentFailure.Kind.TIMED_OUT, "no answer by the deadline");
    } catch (InterruptedException e) {
      sent.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      throw failure(e.getCause());
    }
    return read(response, signature, key, endpointsArgs.size());
  }

  private static List<BatchCodec.Entry> read(
      HttpResponse<byte[]> response, String signature, byte[] key, int endpoints)
      throws AgentFailure {
    int status = response.statusCode();
    byte[] body = response.body();
    switch (status) {
      case 200 -> {
        // checked below
      }
      case 401 ->
          throw new AgentFailure(AgentFailure.Kind.UNAUTHORIZED, "the agent refused the signature");
      case 503 ->
          throw new AgentFailure(
              AgentFailure.Kind.BUSY, "the agent is busy or shutting down", retryAfter(response));
      default ->
          throw new AgentFailure(
              AgentFailure.Kind.REJECTED, "HTTP " + status + ": " + excerpt(body));
    }
    if (body == null) {
      throw new AgentFailure(
          AgentFailure.Kind.BAD_ANSWER, "an answer larger than its endpoints' results can be");
    }
    String claimed = response.headers().firstValue(AgentSignature.SIGNATURE_HEADER).orElse(null);
    if (!AgentSignature.equal(claimed, AgentSignature.answer(key, signature, status, body))) {
      throw new AgentFailure(
          AgentFailure.Kind.BAD_ANSWER, "the answer's signature is wrong or missing");
    }
    String text = new String(body, StandardCharsets.UTF_8);
    List<String> lines = text.isEmpty() ? List.of() : List.of(text.split("\n", -1));
    if (lines.size() != endpoints + 1 || !lines.get(endpoints).isEmpty()) {
      throw new AgentFailure(
          AgentFailure.Kind.BAD_ANSWER, "the answer does not have one line per endpoint");
    }
    List<BatchCodec.Entry> entries = new ArrayList<>();
    for (String line : lines.subList(0, endpoints)) {
      try {
        List<BatchCodec.Entry> decoded = BatchCodec.decode(line);
        if (decoded.size() != 1) {
          throw new MalformedReportException("a line holds " + decoded.size() + " results");
        }
        entries.add(decoded.get(0));
      } catch (MalformedReportException e) {
        throw new AgentFailure(AgentFailure.Kind.BAD_ANSWER, "a result line: " + e.getMessage());
      }
    }
    return entries;
  }

  private static AgentFailure failure(Throwable cause) {
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HttpConnectTimeoutException) {
      return new AgentFailure(AgentFailure.Kind.UNREACHABLE, "connect timed out");
    }
    if (cause instanceof HttpTimeoutException) {
      return new AgentFailure(AgentFailure.Kind.TIMED_OUT, "no answer by the deadline");
    }
    // Refused, reset, or closed before an answer: whatever it was, no agent answered.
    return new AgentFailure(AgentFailure.Kind.UNREACHABLE, String.valueOf(cause));
  }

  private static Duration retryAfter(HttpResponse<?> response) {
    try {
      long seconds =
          Long.parseLong(response.headers().firstValue("Retry-After").orElse("").strip());
      return Duration.ofSeconds(Math.max(0, Math.min(seconds, 3600)));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String excerpt(byte[] body) {
    if (body == null) {
      return "";
    }
    String text = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
    return text.replaceAll("[^\\x20-\\x7e]", " ").strip();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /**
   * Collects an answer's bytes up to a bound; beyond it, stops reading and gives null, so a hostile
   * or broken agent cannot fill the operator's memory.
   */
  private static final class BoundedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int limit;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    BoundedBody(int limit) {
      this.limit = limit;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
      for (ByteBuffer b : buffers) {
        if (bytes.size() + b.remaining() > limit) {
          subscription.cancel();
          result.complete(null);
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        bytes.writeBytes(chunk);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(bytes.toByteArray());
    }
  }
}
