package io.smtpreach.probe;

import java.util.List;

/**
 * What a probe's mail leaves from, as receivers judge it: the address the server saw (or, when no
 * server said, the local address the probe bound), its reverse DNS forward-confirmed, and the DNS
 * blocklists it is on. Outbound mail fails for these reasons as often as for closed ports: a
 * changed NAT no longer on a relay's allowlist, an address without PTR, a listed address.
 *
 * @param address the address the server echoed when one did, else the local address
 * @param seenBy whether {@link #address} is what a server saw or only what the probe bound
 * @param local the local address the probe's socket was bound to
 * @param ptr the PTR name of {@link #address}; null when it has none or it was not looked up
 * @param ptrConfirmed true when {@link #ptr} resolves back to the address (FCrDNS), false when it
 *     does not or there is no PTR, null when unknown (lookup failed, or not a public address)
 * @param lists one verdict per configured blocklist; empty when none was checked
 */
public record EgressFacts(
    String address,
    SeenBy seenBy,
    String local,
    String ptr,
    Boolean ptrConfirmed,
    List<Dnsbl> lists) {

  /** The longest text kept of a list's TXT reason or error. */
  public static final int MAX_DETAIL_CHARS = 200;

  /** What is kept of it when a report must be short. */
  public static final int SHORT_DETAIL_CHARS = 60;

  /** The most blocklist verdicts a report may carry. */
  public static final int MAX_LISTS = 16;

  public EgressFacts {
    lists = lists == null ? List.of() : List.copyOf(lists);
  }

  /** Who saw {@link #address()}. */
  public enum SeenBy {
    /** The server echoed it in its EHLO reply: the address after any NAT. */
    SERVER("Server"),
    /** No server said: the address the probe's socket was bound to (before any NAT). */
    LOCAL("Local");

    private final String displayName;

    SeenBy(String displayName) {
      this.displayName = displayName;
    }

    public String displayName() {
      return displayName;
    }

    public static SeenBy fromDisplayName(String name) {
      for (SeenBy s : values()) {
        if (s.displayName.equals(name)) {
          return s;
        }
      }
      throw new IllegalArgumentException("unknown seenBy '" + name + "'");
    }
  }

  /** One blocklist's answer about {@link #address()}. */
  public enum Verdict {
    /** A listing: the list names the address, {@code detail} is its TXT reason. */
    LISTED("Listed"),
    /** NXDOMAIN: not on the list. */
    NOT_LISTED("NotListed"),
    /**
     * The list answered with its own error (127.255.255.0/24: query refused, rate limited, needs a
     * key) or something that is no listing code: no verdict, and not a listing.
     */
    LIST_ERROR("ListError"),
    /** Timeout or SERVFAIL: no verdict, neither listed nor clean. */
    LOOKUP_FAILED("LookupFailed");

    private final String displayName;

    Verdict(String displayName) {
      this.displayName = displayName;
    }

    public String displayName() {
      return displayName;
    }

    public static Verdict fromDisplayName(String name) {
      for (Verdict v : values()) {
        if (v.displayName.equals(name)) {
          return v;
        }
      }
      throw new IllegalArgumentException("unknown blocklist verdict '" + name + "'");
    }
  }

  /**
   * @param zone the list's DNS zone, e.g. {@code zen.spamhaus.org}
   * @param detail the TXT reason of a listing, or what went wrong; may be null
   */
  public record Dnsbl(String zone, Verdict verdict, String detail) {}

  /** The lists that name the address. */
  public List<Dnsbl> listings() {
    return lists.stream().filter(l -> l.verdict() == Verdict.LISTED).toList();
  }
}
