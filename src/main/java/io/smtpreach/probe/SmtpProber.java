package io.smtpreach.probe;

import java.io.IOException;
import java.net.InetAddress;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The probe engine's entry point: probes one host's targets concurrently, each within its own
 * deadline, or the MX hosts of a mail domain on port 25. Plain Java, no Kubernetes.
 */
public final class SmtpProber implements AutoCloseable {
  /** At most this many MX hosts are probed, in preference order. */
  public static final int MAX_MX_HOSTS = 5;

  private final ProbeOptions options;
  private final TlsClient tls;
  private final Supplier<CertificateVerifier> verifier;
  private final ExecutorService executor;
  private final TranscriptListener transcript;

  /**
   * @throws IllegalArgumentException if the CA bundle cannot be read
   */
  public SmtpProber(ProbeOptions options) {
    this(options, TranscriptListener.NONE);
  }

  /**
   * A prober that tells {@code transcript} every line of every dialogue.
   *
   * @throws IllegalArgumentException if the CA bundle cannot be read
   */
  public SmtpProber(ProbeOptions options, TranscriptListener transcript) {
    this.options = options;
    this.transcript = transcript;
    this.tls = new TlsClient(options);
    this.verifier = verifier(options);
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "smtp-probe-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Probes every target of {@code host}; with {@link IpFamily#EACH}, once per address family. */
  public ProbeReport probe(String host, List<ProbeTarget> targets) {
    Instant started = Instant.now();
    List<ProbeResult> results = probeHost(host, targets, Deadline.after(options.timeout()));
    boolean direct = targets.stream().anyMatch(t -> t.port() == PortProbe.RELAY_PORT);
    return new ProbeReport(host, false, started, results).withEgress(egress(results, direct));
  }

  /** After the ports: which address this run's mail left from, and how receivers judge it. */
  private EgressFacts egress(List<ProbeResult> results, boolean direct) {
    return new EgressInspector(options, new HostResolver(options, executor), executor)
        .inspect(results, direct);
  }

  /** Probes port 25 on the MX hosts of a mail domain: can this network deliver mail directly? */
  public ProbeReport probeMx(String domain) {
    return probeMx(domain, new ProbeTarget(25, TlsMode.AUTO, Expectation.REACHABLE));
  }

  /** Probes {@code smtp} (port 25, a mode and an expectation) on each MX host of {@code domain}. */
  public ProbeReport probeMx(String domain, ProbeTarget smtp) {
    Instant started = Instant.now();
    Deadline deadline = Deadline.after(options.timeout());
    HostResolver resolver = new HostResolver(options, executor);
    long t = System.nanoTime();
    List<HostResolver.MxHost> hosts;
    try {
      hosts = withinDeadline(() -> resolver.resolveMx(domain), domain, deadline);
    } catch (ProbeFailure f) {
      // One result per family, as when hosts are probed: with EACH, each family has a verdict.
      Duration dns = Duration.ofNanos(System.nanoTime() - t);
      List<ProbeResult> failed = new ArrayList<>();
      for (IpFamily family : options.ipFamily().expand()) {
        failed.add(
            ProbeResult.builder(domain, smtp, family)
                .timing(Phase.DNS, dns)
                .build(f.reason(), f.getMessage()));
      }
      return new ProbeReport(domain, true, started, failed);
    }
    List<Future<List<ProbeResult>>> futures = new ArrayList<>();
    for (HostResolver.MxHost mx : hosts.subList(0, Math.min(hosts.size(), MAX_MX_HOSTS))) {
      futures.add(executor.submit(() -> probeHost(mx.host(), List.of(smtp), deadline)));
    }
    List<ProbeResult> results = new ArrayList<>();
    for (Future<List<ProbeResult>> f : futures) {
      results.addAll(join(f));
    }
    return new ProbeReport(domain, true, started, results).withEgress(egress(results, true));
  }

  private List<ProbeResult> probeHost(String host, List<ProbeTarget> targets, Deadline deadline) {
    HostResolver resolver = new HostResolver(options, executor);
    List<Future<ProbeResult>> futures = new ArrayList<>();
    for (IpFamily family : options.ipFamily().expand()) {
      long t = System.nanoTime();
      List<InetAddress> addresses;
      ProbeFailure dnsFailure = null;
      try {
        addresses = withinDeadline(() -> resolver.resolve(host, family), host, deadline);
      } catch (ProbeFailure f) {
        addresses = List.of();
        dnsFailure = f;
      }
      Duration dns = Duration.ofNanos(System.nanoTime() - t);
      List<String> shown = addresses.stream().map(InetAddress::getHostAddress).toList();
      for (ProbeTarget target : targets) {
        ProbeResult.Builder result =
            ProbeResult.builder(host, target, family).addresses(shown).timing(Phase.DNS, dns);
        if (dnsFailure != null) {
          ProbeFailure f = dnsFailure;
          futures.add(
              java.util.concurrent.CompletableFuture.completedFuture(
                  result.timing(Phase.TOTAL, dns).build(f.reason(), f.getMessage())));
          continue;
        }
        InetAddress first = addresses.get(0);
        futures.add(
            executor.submit(
                () ->
                    new PortProbe(host, first, options, tls, verifier, result, deadline, transcript)
                        .run()));
      }
    }
    List<ProbeResult> results = new ArrayList<>();
    for (Future<ProbeResult> f : futures) {
      results.add(join(f));
    }
    return results;
  }

  private interface Lookup<T> {
    T run() throws ProbeFailure;
  }

  /**
   * A DNS lookup cut at the deadline: each query is bounded by the DNS timeout, but a lookup may
   * ask several (search domains, A and AAAA, retries), and the deadline includes DNS.
   */
  private <T> T withinDeadline(Lookup<T> lookup, String name, Deadline deadline)
      throws ProbeFailure {
    Future<T> future = executor.submit(lookup::run);
    try {
      return future.get(deadline.remaining().toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new ProbeFailure(
          Reason.DNS_TIMEOUT,
          "DNS lookup of "
              + name
              + " did not finish by the "
              + Durations.format(options.timeout())
              + " deadline");
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while probing", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ProbeFailure f) {
        throw f;
      }
      throw new IllegalStateException("DNS lookup failed", e.getCause());
    }
  }

  private static <T> T join(Future<T> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while probing", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("probe task failed", e.getCause());
    }
  }

  /** Loads an extra CA bundle at once (a bad file is a usage error); system trust on first use. */
  private static Supplier<CertificateVerifier> verifier(ProbeOptions options) {
    if (options.caBundle() != null || options.caBundlePem() != null) {
      CertificateVerifier loaded = load(options);
      return () -> loaded;
    }
    return new Supplier<>() {
      private volatile CertificateVerifier loaded;

      @Override
      public CertificateVerifier get() {
        if (loaded == null) {
          synchronized (this) {
            if (loaded == null) {
              loaded = load(options);
            }
          }
        }
        return loaded;
      }
    };
  }

  private static CertificateVerifier load(ProbeOptions options) {
    try {
      return CertificateVerifier.load(options.caBundle(), options.caBundlePem());
    } catch (IOException | GeneralSecurityException e) {
      String which = options.caBundle() != null ? " " + options.caBundle() : "";
      throw new IllegalArgumentException(
          "cannot read CA bundle" + which + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
