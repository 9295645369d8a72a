package io.smtpreach.probe;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Address;
import org.xbill.DNS.Cache;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;
import org.xbill.DNS.hosts.HostsFileParser;

/**
 * Resolves host names and MX records with dnsjava, which (unlike {@link InetAddress}) tells a name
 * that does not exist from a server that did not answer, and honours a per-query deadline. It reads
 * /etc/resolv.conf (search list and ndots included) and /etc/hosts as the system resolver does; a
 * chosen DNS server is asked about the name exactly as given, without the local search list.
 */
final class HostResolver {
  /** An MX host and its preference. */
  record MxHost(int preference, String host) {}

  /**
   * The system resolver's answers, shared by every probe of this process: a resident agent asks
   * about the same names every round (its own address's PTR for each probe among them). Kept at
   * most 30 s, an answer or a name that does not exist, as a cluster's DNS keeps them (CoreDNS's
   * {@code cache 30}), so that a DNS change shows by the next round but one; timeouts and server
   * failures are not kept. A DNS server the endpoint chose gets a cache of its own per probe.
   */
  private static final Cache SYSTEM_ANSWERS = systemAnswers();

  private final ProbeOptions options;
  private final boolean useSearchList;
  private final Executor executor;
  // Built on the first name to resolve: a probe of address literals never reads resolv.conf.
  private Dns dns;

  /** What every lookup shares: the resolver, the answer cache and /etc/hosts. */
  private record Dns(Resolver resolver, Cache cache, HostsFileParser hosts) {}

  HostResolver(ProbeOptions options, Executor executor) {
    this.options = options;
    this.executor = executor;
    // The search list belongs to the local resolver (in a pod: the namespace's cluster domains,
    // with ndots:5); a server the user chose is asked about the name itself, as dig @server does.
    this.useSearchList = options.dnsServer() == null;
  }

  /**
   * Built once, before any lookup runs. /etc/hosts is read here: dnsjava's parser publishes its
   * (still empty) table before it has read the file, so lookups racing with the first read (A and
   * AAAA run in parallel) could miss a name the file has and ask DNS instead.
   */
  private synchronized Dns dns() {
    if (dns == null) {
      Resolver r =
          options.dnsServer() == null
              ? new ExtendedResolver()
              : new SimpleResolver(options.dnsServer());
      r.setTimeout(options.dnsTimeout());
      HostsFileParser hosts = new HostsFileParser();
      try {
        hosts.getAddressForHost(Name.fromConstantString("localhost."), Type.A);
      } catch (IOException | RuntimeException e) {
        // No readable hosts file: every lookup goes to DNS, as without one.
      }
      Cache cache = options.dnsServer() == null ? SYSTEM_ANSWERS : new Cache();
      dns = new Dns(new TimeoutReportingResolver(r), cache, hosts);
    }
    return dns;
  }

  private static Cache systemAnswers() {
    Cache cache = new Cache();
    cache.setMaxCache(30);
    cache.setMaxNCache(30);
    cache.setMaxEntries(10_000);
    return cache;
  }

  /** True for IPv4 and IPv6 literals, which need no DNS. */
  static boolean isAddressLiteral(String host) {
    return Address.isDottedQuad(host) || host.indexOf(':') >= 0;
  }

  /**
   * The addresses of {@code host} in the family's order: IPv4 first for ANY, as most clients do.
   */
  List<InetAddress> resolve(String host, IpFamily family) throws ProbeFailure {
    if (isAddressLiteral(host)) {
      try {
        InetAddress literal = InetAddress.getByName(strip(host));
        if (!family.accepts(literal)) {
          throw new ProbeFailure(
              Reason.NO_ADDRESS, host + " is not an address of " + label(family));
        }
        return List.of(literal);
      } catch (UnknownHostException e) {
        throw new ProbeFailure(Reason.NO_SUCH_HOST, "'" + host + "' is not a valid address");
      }
    }
    CompletableFuture<Answer> v4 =
        family == IpFamily.V6
            ? CompletableFuture.completedFuture(Answer.SKIPPED)
            : CompletableFuture.supplyAsync(() -> lookup(host, Type.A), executor);
    CompletableFuture<Answer> v6 =
        family == IpFamily.V4
            ? CompletableFuture.completedFuture(Answer.SKIPPED)
            : CompletableFuture.supplyAsync(() -> lookup(host, Type.AAAA), executor);
    Answer a = join(v4);
    Answer aaaa = join(v6);
    List<InetAddress> addresses = new ArrayList<>();
    addresses.addAll(a.addresses());
    addresses.addAll(aaaa.addresses());
    if (!addresses.isEmpty()) {
      return addresses;
    }
    throw failure(host, family, a, aaaa);
  }

  /**
   * MX hosts of a mail domain by preference (RFC 5321 section 5.1): the domain itself when it has
   * no MX record, a failure for a null MX (RFC 7505).
   */
  List<MxHost> resolveMx(String domain) throws ProbeFailure {
    Answer mx = lookup(domain, Type.MX);
    if (mx.result == Lookup.TYPE_NOT_FOUND) {
      return List.of(new MxHost(0, domain));
    }
    if (mx.result != Lookup.SUCCESSFUL) {
      throw failure(domain, IpFamily.ANY, mx, Answer.SKIPPED);
    }
    List<MxHost> hosts = new ArrayList<>();
    for (Record r : mx.records) {
      MXRecord m = (MXRecord) r;
      if (m.getTarget().equals(Name.root)) {
        throw new ProbeFailure(
            Reason.NULL_MX, domain + " publishes a null MX: it accepts no mail (RFC 7505)");
      }
      hosts.add(new MxHost(m.getPriority(), m.getTarget().toString(true)));
    }
    hosts.sort(Comparator.comparingInt(MxHost::preference).thenComparing(MxHost::host));
    return hosts;
  }

  /** A lookup's outcome: dnsjava's {@link Lookup} result code, its error text, the records. */
  record Answer(int result, String error, Record[] records) {
    static final Answer SKIPPED = new Answer(-1, null, new Record[0]);

    List<InetAddress> addresses() {
      List<InetAddress> out = new ArrayList<>();
      for (Record r : records) {
        if (r instanceof ARecord a) {
          out.add(a.getAddress());
        } else if (r instanceof AAAARecord aaaa) {
          out.add(aaaa.getAddress());
        }
      }
      return out;
    }
  }

  /**
   * One question about an absolute name (a reverse name, a blocklist entry, a PTR target), through
   * the same resolver, cache and deadlines as host lookups; no search list.
   */
  Answer query(Name name, int type) {
    Lookup lookup = new Lookup(name, type);
    Dns shared = dns();
    lookup.setResolver(shared.resolver());
    lookup.setCache(shared.cache());
    lookup.setSearchPath((Name[]) null);
    lookup.setHostsFileParser(null); // receivers ask DNS, not this machine's /etc/hosts
    Record[] records = lookup.run();
    return new Answer(
        lookup.getResult(), lookup.getErrorString(), records == null ? new Record[0] : records);
  }

  /** True when an answer is a timeout rather than a refusal or an error. */
  static boolean timedOut(Answer answer) {
    return answer.result == Lookup.TRY_AGAIN && isTimeout(answer);
  }

  private Answer lookup(String host, int type) {
    try {
      Lookup lookup = new Lookup(host, type);
      Dns shared = dns();
      lookup.setResolver(shared.resolver());
      lookup.setCache(shared.cache());
      lookup.setHostsFileParser(shared.hosts());
      if (!useSearchList) {
        lookup.setSearchPath((String[]) null);
      }
      Record[] records = lookup.run();
      return new Answer(
          lookup.getResult(), lookup.getErrorString(), records == null ? new Record[0] : records);
    } catch (TextParseException e) {
      return new Answer(Lookup.UNRECOVERABLE, "invalid name: " + e.getMessage(), new Record[0]);
    }
  }

  private static Answer join(CompletableFuture<Answer> future) {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(Lookup.UNRECOVERABLE, "interrupted", new Record[0]);
    } catch (ExecutionException e) {
      return new Answer(Lookup.UNRECOVERABLE, String.valueOf(e.getCause()), new Record[0]);
    }
  }

  private static ProbeFailure failure(String host, IpFamily family, Answer a, Answer b) {
    List<Answer> answers = List.of(a, b);
    if (answers.stream().anyMatch(x -> x.result == Lookup.TRY_AGAIN && isTimeout(x))) {
      return new ProbeFailure(Reason.DNS_TIMEOUT, "DNS lookup of " + host + " timed out");
    }
    if (answers.stream()
        .anyMatch(x -> x.result == Lookup.TRY_AGAIN || x.result == Lookup.UNRECOVERABLE)) {
      String error =
          answers.stream()
              .filter(x -> x.error != null)
              .findFirst()
              .map(Answer::error)
              .orElse("error");
      return new ProbeFailure(Reason.DNS_ERROR, "DNS lookup of " + host + " failed: " + error);
    }
    if (answers.stream().anyMatch(x -> x.result == Lookup.TYPE_NOT_FOUND)) {
      return new ProbeFailure(
          Reason.NO_ADDRESS, host + " exists but has no " + label(family) + " address");
    }
    return new ProbeFailure(Reason.NO_SUCH_HOST, "no such host: " + host + " (NXDOMAIN)");
  }

  private static boolean isTimeout(Answer answer) {
    return answer.error != null && answer.error.contains("timed out");
  }

  private static String label(IpFamily family) {
    return switch (family) {
      case V4 -> "IPv4";
      case V6 -> "IPv6";
      default -> "IP";
    };
  }

  /**
   * Makes query timeouts look like timeouts to {@link Lookup}, which counts only an {@link
   * InterruptedIOException} as one: dnsjava 3.6 resolvers report a query that got no answer in time
   * as a plain IOException ("Timed out while trying to resolve ...", or one caused by a {@link
   * TimeoutException}), which Lookup would call a "network error".
   */
  private static final class TimeoutReportingResolver implements Resolver {
    private final Resolver delegate;

    TimeoutReportingResolver(Resolver delegate) {
      this.delegate = delegate;
    }

    @Override
    public Message send(Message query) throws IOException {
      try {
        return delegate.send(query);
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        boolean timedOut =
            e.getCause() instanceof TimeoutException
                || (e.getMessage() != null && e.getMessage().startsWith("Timed out"));
        if (!timedOut) {
          throw e;
        }
        SocketTimeoutException timeout = new SocketTimeoutException(e.getMessage());
        timeout.initCause(e);
        throw timeout;
      }
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query) {
      return delegate.sendAsync(query);
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
      return delegate.sendAsync(query, executor);
    }

    @Override
    public void setPort(int port) {
      delegate.setPort(port);
    }

    @Override
    public void setTCP(boolean flag) {
      delegate.setTCP(flag);
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
      delegate.setIgnoreTruncation(flag);
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
      delegate.setEDNS(version, payloadSize, flags, options);
    }

    @Override
    public void setTSIGKey(TSIG key) {
      delegate.setTSIGKey(key);
    }

    @Override
    public void setTimeout(Duration timeout) {
      delegate.setTimeout(timeout);
    }

    @Override
    public Duration getTimeout() {
      return delegate.getTimeout();
    }
  }

  private static String strip(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
