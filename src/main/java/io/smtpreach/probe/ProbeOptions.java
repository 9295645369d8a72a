package io.smtpreach.probe;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How to probe: deadlines, names, trust and the optional credential check.
 *
 * @param connectTimeout how long a TCP connect may take before the port counts as silently dropped
 * @param readTimeout how long one read may wait for the server's next bytes
 * @param timeout the whole dialogue of one target, DNS included: when it passes, the target's
 *     sockets are closed (its result comes within {@code Deadline.SLACK} of it)
 * @param dnsTimeout one DNS query
 * @param tlsSniffDelay how long a port may stay silent before a second connection checks whether it
 *     is waiting for a TLS ClientHello (implicit TLS); the first connection keeps waiting meanwhile
 * @param ehloName the name sent with EHLO
 * @param serverName SNI and the name the certificate must match; null means the probed host
 * @param caBundle a file of extra trusted CAs (PEM), on top of the system trust; may be null
 * @param caBundlePem extra trusted CAs as PEM text (from an environment variable in probe pods);
 *     may be null
 * @param insecure accept any certificate (the facts are still reported)
 * @param minTlsVersion the oldest TLS version offered
 * @param ipFamily which address family to use
 * @param credentials an AUTH check to run after TLS; may be null
 * @param dnsServer a DNS server to ask instead of the system's; may be null
 * @param dnsblZones DNS blocklists to look the egress address up in, when the probe delivers
 *     directly (port 25, MX mode); none by default
 */
public record ProbeOptions(
    Duration connectTimeout,
    Duration readTimeout,
    Duration timeout,
    Duration dnsTimeout,
    Duration tlsSniffDelay,
    String ehloName,
    String serverName,
    Path caBundle,
    String caBundlePem,
    boolean insecure,
    TlsVersion minTlsVersion,
    IpFamily ipFamily,
    Credentials credentials,
    InetSocketAddress dnsServer,
    List<String> dnsblZones) {

  /** Blocklists one probe asks at most: each costs a query (two for a listing) per round. */
  public static final int MAX_DNSBL_ZONES = 8;

  public ProbeOptions {
    dnsblZones = dnsblZones == null ? List.of() : List.copyOf(dnsblZones);
  }

  public static final String DEFAULT_EHLO_NAME = "smtp-reach.invalid";

  /**
   * The deadlines of a probe nobody set them for, as text: the command's option defaults and the
   * operator's settings are these same constants, so that a port probed by hand and by a probe pod
   * gets the same verdict. 10s per dialogue is check_smtp's default too, and fits well inside the
   * shortest interval an endpoint may have (30s).
   */
  public static final String DEFAULT_TIMEOUT = "10s";

  public static final String DEFAULT_CONNECT_TIMEOUT = "5s";

  /** A probe pod reads for as long as its whole timeout; by hand, the same. */
  public static final String DEFAULT_READ_TIMEOUT = DEFAULT_TIMEOUT;

  public static ProbeOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.connectTimeout = connectTimeout;
    b.readTimeout = readTimeout;
    b.timeout = timeout;
    b.dnsTimeout = dnsTimeout;
    b.tlsSniffDelay = tlsSniffDelay;
    b.ehloName = ehloName;
    b.serverName = serverName;
    b.caBundle = caBundle;
    b.caBundlePem = caBundlePem;
    b.insecure = insecure;
    b.minTlsVersion = minTlsVersion;
    b.ipFamily = ipFamily;
    b.credentials = credentials;
    b.dnsServer = dnsServer;
    b.dnsblZones = dnsblZones;
    return b;
  }

  /** Two or more LDH labels of at most 63 characters: a blocklist zone. */
  private static final Pattern DNS_NAME =
      Pattern.compile("([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /** Fluent construction with the defaults the command line documents. */
  public static final class Builder {
    private Duration connectTimeout = Durations.parse(DEFAULT_CONNECT_TIMEOUT);
    private Duration readTimeout = Durations.parse(DEFAULT_READ_TIMEOUT);
    private Duration timeout = Durations.parse(DEFAULT_TIMEOUT);
    private Duration dnsTimeout = Duration.ofSeconds(5);
    private Duration tlsSniffDelay = Duration.ofMillis(500);
    private String ehloName = DEFAULT_EHLO_NAME;
    private String serverName;
    private Path caBundle;
    private String caBundlePem;
    private boolean insecure;
    private TlsVersion minTlsVersion = TlsVersion.TLS_1_2;
    private IpFamily ipFamily = IpFamily.ANY;
    private Credentials credentials;
    private InetSocketAddress dnsServer;
    private List<String> dnsblZones = List.of();

    public Builder connectTimeout(Duration d) {
      connectTimeout = positive(d, "connect timeout");
      return this;
    }

    public Builder readTimeout(Duration d) {
      readTimeout = positive(d, "read timeout");
      return this;
    }

    public Builder timeout(Duration d) {
      timeout = positive(d, "timeout");
      return this;
    }

    public Builder dnsTimeout(Duration d) {
      dnsTimeout = positive(d, "DNS timeout");
      return this;
    }

    public Builder tlsSniffDelay(Duration d) {
      tlsSniffDelay = positive(d, "TLS sniff delay");
      return this;
    }

    public Builder ehloName(String name) {
      if (name == null || name.isBlank() || name.chars().anyMatch(c -> c <= ' ' || c > '~')) {
        throw new IllegalArgumentException("EHLO name must be a non-empty printable ASCII word");
      }
      ehloName = name;
      return this;
    }

    public Builder serverName(String name) {
      serverName = name;
      return this;
    }

    public Builder caBundle(Path path) {
      caBundle = path;
      return this;
    }

    public Builder caBundlePem(String pem) {
      caBundlePem = pem == null || pem.isBlank() ? null : pem;
      return this;
    }

    public Builder insecure(boolean value) {
      insecure = value;
      return this;
    }

    public Builder minTlsVersion(TlsVersion version) {
      minTlsVersion = version;
      return this;
    }

    public Builder ipFamily(IpFamily family) {
      ipFamily = family;
      return this;
    }

    public Builder credentials(Credentials value) {
      credentials = value;
      return this;
    }

    public Builder dnsServer(InetSocketAddress server) {
      dnsServer = server;
      return this;
    }

    /**
     * The blocklists' zones, each checked to be a DNS name: a zone is put into queries, and into
     * metric labels and Events.
     */
    public Builder dnsblZones(List<String> zones) {
      if (zones.size() > MAX_DNSBL_ZONES) {
        throw new IllegalArgumentException("at most " + MAX_DNSBL_ZONES + " DNS blocklists");
      }
      List<String> checked = new ArrayList<>();
      for (String zone : zones) {
        String z = zone == null ? "" : zone.strip().toLowerCase(Locale.ROOT);
        z = z.endsWith(".") ? z.substring(0, z.length() - 1) : z;
        if (!DNS_NAME.matcher(z).matches() || z.length() > 200) {
          throw new IllegalArgumentException(
              "DNS blocklist '"
                  + Text.excerpt(zone)
                  + "' is not a DNS name (e.g. zen.spamhaus.org)");
        }
        if (!checked.contains(z)) {
          checked.add(z);
        }
      }
      dnsblZones = List.copyOf(checked);
      return this;
    }

    public ProbeOptions build() {
      return new ProbeOptions(
          connectTimeout,
          readTimeout,
          timeout,
          dnsTimeout,
          tlsSniffDelay,
          ehloName,
          serverName,
          caBundle,
          caBundlePem,
          insecure,
          minTlsVersion,
          ipFamily,
          credentials,
          dnsServer,
          dnsblZones);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive");
      }
      return d;
    }
  }
}
