package io.smtpreach.probe;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.Lookup;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Judges a probe's egress address as a receiving mail server would: which address it is (the one a
 * server echoed, else the local one), its PTR name and whether that name resolves back to it, and,
 * for probes that deliver directly, its DNS blocklist entries. Every lookup goes through the
 * engine's resolver and all of them end by one deadline; what has no answer by then is unknown,
 * never clean. Private, loopback and link-local addresses are never looked up: no receiver sees
 * them, and no public list should be asked about them.
 */
final class EgressInspector {
  /** PTR names tried for forward confirmation; receivers rarely try more. */
  private static final int MAX_PTR_NAMES = 3;

  private final HostResolver resolver;
  private final Executor executor;
  private final List<String> zones;
  private final Duration budget;

  EgressInspector(ProbeOptions options, HostResolver resolver, Executor executor) {
    this.resolver = resolver;
    this.executor = executor;
    this.zones = options.dnsblZones();
    // PTR then its A/AAAA (and a listing's A then TXT) are two queries in a row; never longer than
    // a port's own deadline, so that a probe pod still ends within twice its timeout.
    Duration twoQueries = options.dnsTimeout().multipliedBy(2);
    this.budget = twoQueries.compareTo(options.timeout()) < 0 ? twoQueries : options.timeout();
  }

  /**
   * The egress facts of these results, or null when no connection got far enough to have a local
   * address.
   *
   * @param direct whether the probe delivers directly (port 25, or MX mode): only then are the
   *     blocklists asked
   */
  EgressFacts inspect(List<ProbeResult> results, boolean direct) {
    ProbeResult seen =
        results.stream().filter(r -> r.seenAddress() != null).findFirst().orElse(null);
    ProbeResult bound =
        seen != null
            ? seen
            : results.stream().filter(r -> r.localAddress() != null).findFirst().orElse(null);
    if (bound == null) {
      return null;
    }
    EgressFacts.SeenBy by = seen != null ? EgressFacts.SeenBy.SERVER : EgressFacts.SeenBy.LOCAL;
    String shown = seen != null ? seen.seenAddress() : bound.localAddress();
    InetAddress address;
    try {
      address = InetAddress.getByName(shown); // a literal the probe produced: never resolved
    } catch (UnknownHostException e) {
      return new EgressFacts(shown, by, bound.localAddress(), null, null, List.of());
    }
    if (!isPublic(address)) {
      return new EgressFacts(shown, by, bound.localAddress(), null, null, List.of());
    }
    Deadline deadline = Deadline.after(budget);
    CompletableFuture<Ptr> ptr = CompletableFuture.supplyAsync(() -> ptr(address), executor);
    List<CompletableFuture<EgressFacts.Dnsbl>> lists = new ArrayList<>();
    if (direct) {
      for (String zone : zones) {
        lists.add(CompletableFuture.supplyAsync(() -> dnsbl(address, zone), executor));
      }
    }
    Ptr p = await(ptr, deadline, () -> Ptr.UNKNOWN);
    List<EgressFacts.Dnsbl> verdicts = new ArrayList<>();
    for (int i = 0; i < lists.size(); i++) {
      String zone = zones.get(i);
      verdicts.add(
          await(
              lists.get(i),
              deadline,
              () ->
                  new EgressFacts.Dnsbl(
                      zone,
                      EgressFacts.Verdict.LOOKUP_FAILED,
                      "no answer within " + Durations.format(budget))));
    }
    return new EgressFacts(shown, by, bound.localAddress(), p.name, p.confirmed, verdicts);
  }

  /** Neither private, loopback, link-local, shared (100.64/10), unique-local nor multicast. */
  static boolean isPublic(InetAddress a) {
    if (a.isAnyLocalAddress()
        || a.isLoopbackAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      boolean sharedNat = (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64; // RFC 6598
      return !sharedNat && (b[0] & 0xff) != 0;
    }
    return (b[0] & 0xfe) != 0xfc; // fc00::/7, RFC 4193
  }

  private record Ptr(String name, Boolean confirmed) {
    static final Ptr UNKNOWN = new Ptr(null, null);
  }

  private Ptr ptr(InetAddress address) {
    HostResolver.Answer answer = resolver.query(ReverseMap.fromAddress(address), Type.PTR);
    if (answer.result() == Lookup.HOST_NOT_FOUND || answer.result() == Lookup.TYPE_NOT_FOUND) {
      return new Ptr(null, false); // no reverse DNS: what receivers reject
    }
    List<Name> names = new ArrayList<>();
    for (Record r : answer.records()) {
      if (r instanceof PTRRecord ptr && names.size() < MAX_PTR_NAMES) {
        names.add(ptr.getTarget());
      }
    }
    if (answer.result() != Lookup.SUCCESSFUL || names.isEmpty()) {
      return Ptr.UNKNOWN;
    }
    Boolean confirmed = false;
    for (Name name : names) {
      HostResolver.Answer forward =
          resolver.query(name, address instanceof Inet4Address ? Type.A : Type.AAAA);
      if (forward.result() == Lookup.SUCCESSFUL && addresses(forward).contains(address)) {
        return new Ptr(shown(name), true);
      }
      if (forward.result() == Lookup.TRY_AGAIN || forward.result() == Lookup.UNRECOVERABLE) {
        confirmed = null; // this name might have confirmed it
      }
    }
    return new Ptr(shown(names.get(0)), confirmed);
  }

  private EgressFacts.Dnsbl dnsbl(InetAddress address, String zone) {
    Name name;
    try {
      name = Name.fromString(reversed(address) + "." + zone + ".");
    } catch (TextParseException e) {
      return new EgressFacts.Dnsbl(zone, EgressFacts.Verdict.LIST_ERROR, "not a DNS name");
    }
    HostResolver.Answer answer = resolver.query(name, Type.A);
    switch (answer.result()) {
      case Lookup.HOST_NOT_FOUND, Lookup.TYPE_NOT_FOUND -> {
        return new EgressFacts.Dnsbl(zone, EgressFacts.Verdict.NOT_LISTED, null);
      }
      case Lookup.SUCCESSFUL -> {
        // handled below
      }
      default -> {
        String why = HostResolver.timedOut(answer) ? "timed out" : answer.error();
        return new EgressFacts.Dnsbl(
            zone, EgressFacts.Verdict.LOOKUP_FAILED, detail("lookup failed: " + why));
      }
    }
    List<InetAddress> codes = addresses(answer);
    Optional<InetAddress> error = codes.stream().filter(EgressInspector::isListError).findFirst();
    if (error.isPresent()) {
      return new EgressFacts.Dnsbl(
          zone, EgressFacts.Verdict.LIST_ERROR, listError(error.get().getHostAddress()));
    }
    Optional<InetAddress> notACode =
        codes.stream().filter(c -> (c.getAddress()[0] & 0xff) != 127).findFirst();
    if (codes.isEmpty() || notACode.isPresent()) {
      String got = notACode.map(InetAddress::getHostAddress).orElse("no address");
      return new EgressFacts.Dnsbl(
          zone,
          EgressFacts.Verdict.LIST_ERROR,
          "answered " + got + ", not a listing code (127.0.0.0/8): a resolver rewriting NXDOMAIN?");
    }
    String code = codes.get(0).getHostAddress();
    HostResolver.Answer txt = resolver.query(name, Type.TXT);
    List<String> reasons = new ArrayList<>();
    for (Record r : txt.records()) {
      if (r instanceof TXTRecord t) {
        reasons.add(String.join("", t.getStrings()));
      }
    }
    return new EgressFacts.Dnsbl(
        zone,
        EgressFacts.Verdict.LISTED,
        detail(reasons.isEmpty() ? "listed (" + code + ")" : String.join(" ", reasons)));
  }

  /** A list's own error codes (Spamhaus's convention, followed by others): not a listing. */
  static boolean isListError(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == 4 && (b[0] & 0xff) == 127 && (b[1] & 0xff) == 255 && (b[2] & 0xff) == 255;
  }

  private static String listError(String code) {
    String meaning =
        switch (code) {
          case "127.255.255.252" -> "query malformed, or the zone needs a key";
          case "127.255.255.254" -> "query refused: asked through a public or open resolver";
          case "127.255.255.255" -> "query refused: too many queries (rate limited)";
          default -> "query refused";
        };
    return "list error " + code + " (" + meaning + "), not a listing";
  }

  /** {@code 5.113.0.203} for 203.0.113.5; 32 dotted nibbles, last first, for IPv6. */
  static String reversed(InetAddress address) {
    byte[] b = address.getAddress();
    StringBuilder out = new StringBuilder();
    for (int i = b.length - 1; i >= 0; i--) {
      if (b.length == 4) {
        out.append(out.isEmpty() ? "" : ".").append(b[i] & 0xff);
      } else {
        out.append(out.isEmpty() ? "" : ".")
            .append(Character.forDigit(b[i] & 0x0f, 16))
            .append('.')
            .append(Character.forDigit((b[i] >> 4) & 0x0f, 16));
      }
    }
    return out.toString();
  }

  private static List<InetAddress> addresses(HostResolver.Answer answer) {
    List<InetAddress> out = new ArrayList<>();
    for (Record r : answer.records()) {
      if (r instanceof ARecord a) {
        out.add(a.getAddress());
      } else if (r instanceof AAAARecord aaaa) {
        out.add(aaaa.getAddress());
      }
    }
    return out;
  }

  /** A DNS name as text: dnsjava escapes what is not printable, and the length is bounded. */
  private static String shown(Name name) {
    return Text.sanitize(name.toString(true), 253);
  }

  private static String detail(String text) {
    return Text.sanitize(text, EgressFacts.MAX_DETAIL_CHARS);
  }

  private static <T> T await(CompletableFuture<T> future, Deadline deadline, Supplier<T> late) {
    try {
      return future.get(deadline.remaining().toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      return late.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return late.get();
    } catch (ExecutionException e) {
      return late.get();
    }
  }
}
