package io.smtpreach.probe;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The verdict on one target from one address family, with every fact gathered on the way. Facts
 * that were never reached are null or empty.
 *
 * @param negotiated the TLS mode the dialogue really used (AUTO resolves to one of the others)
 * @param authenticated null when no credential check ran
 * @param localAddress the address the probe's socket was bound to; null before a connection
 * @param seenAddress the client address the server echoed in its EHLO reply; null when it did not
 *     (or not in a form read strictly: {@link EhloAddress})
 */
public record ProbeResult(
    String host,
    ProbeTarget target,
    IpFamily family,
    Reason reason,
    String message,
    List<String> addresses,
    String address,
    TlsMode negotiated,
    Map<Phase, Duration> timings,
    String greeting,
    List<String> capabilities,
    List<String> tlsCapabilities,
    List<String> authMechanisms,
    TlsFacts tls,
    Boolean authenticated,
    String localAddress,
    String seenAddress) {

  /** A result with no egress addresses (decoded, or made in tests). */
  public ProbeResult(
      String host,
      ProbeTarget target,
      IpFamily family,
      Reason reason,
      String message,
      List<String> addresses,
      String address,
      TlsMode negotiated,
      Map<Phase, Duration> timings,
      String greeting,
      List<String> capabilities,
      List<String> tlsCapabilities,
      List<String> authMechanisms,
      TlsFacts tls,
      Boolean authenticated) {
    this(
        host,
        target,
        family,
        reason,
        message,
        addresses,
        address,
        negotiated,
        timings,
        greeting,
        capabilities,
        tlsCapabilities,
        authMechanisms,
        tls,
        authenticated,
        null,
        null);
  }

  public ProbeResult {
    addresses = copy(addresses);
    capabilities = copy(capabilities);
    tlsCapabilities = copy(tlsCapabilities);
    authMechanisms = copy(authMechanisms);
    EnumMap<Phase, Duration> t = new EnumMap<>(Phase.class);
    if (timings != null) {
      t.putAll(timings);
    }
    timings = Collections.unmodifiableMap(t);
  }

  public PortState state() {
    return reason.state();
  }

  public boolean matchesExpectation() {
    return target.expect().isMetBy(state());
  }

  /** Reachable over TLS (STARTTLS or implicit): usable for submission with credentials. */
  public boolean isSecure() {
    return reason == Reason.OK && negotiated != null && negotiated != TlsMode.NONE;
  }

  public Duration timing(Phase phase) {
    return timings.get(phase);
  }

  /** {@code 587/StartTLS}, with {@code /v6} when probed per family. */
  public String label() {
    String base = target.label();
    return family == IpFamily.V4 || family == IpFamily.V6
        ? base + "/" + family.name().toLowerCase(java.util.Locale.ROOT)
        : base;
  }

  private static List<String> copy(List<String> list) {
    return list == null ? List.of() : List.copyOf(list);
  }

  public static Builder builder(String host, ProbeTarget target, IpFamily family) {
    return new Builder(host, target, family);
  }

  /** Collects facts while a probe runs; one per target, confined to its thread. */
  public static final class Builder {
    private final String host;
    private final ProbeTarget target;
    private final IpFamily family;
    private final EnumMap<Phase, Duration> timings = new EnumMap<>(Phase.class);
    private List<String> addresses = List.of();
    private String address;
    private TlsMode negotiated;
    private String greeting;
    private List<String> capabilities = List.of();
    private List<String> tlsCapabilities = List.of();
    private List<String> authMechanisms = List.of();
    private TlsFacts tls;
    private Boolean authenticated;
    private String localAddress;
    private String seenAddress;

    private Builder(String host, ProbeTarget target, IpFamily family) {
      this.host = host;
      this.target = target;
      this.family = family;
    }

    public ProbeTarget target() {
      return target;
    }

    public IpFamily family() {
      return family;
    }

    public Builder addresses(List<String> value) {
      addresses = value;
      return this;
    }

    public Builder address(String value) {
      address = value;
      return this;
    }

    public Builder negotiated(TlsMode value) {
      negotiated = value;
      return this;
    }

    /** A phase measured so far, or zero. */
    public Duration timing(Phase phase) {
      return timings.getOrDefault(phase, Duration.ZERO);
    }

    public Builder timing(Phase phase, Duration value) {
      timings.put(phase, value);
      return this;
    }

    public Builder greeting(String value) {
      greeting = value;
      return this;
    }

    public Builder capabilities(List<String> value) {
      capabilities = value;
      return this;
    }

    public Builder tlsCapabilities(List<String> value) {
      tlsCapabilities = value;
      return this;
    }

    public Builder authMechanisms(List<String> value) {
      authMechanisms = value;
      return this;
    }

    public Builder tls(TlsFacts value) {
      tls = value;
      return this;
    }

    public Builder authenticated(Boolean value) {
      authenticated = value;
      return this;
    }

    public Builder localAddress(String value) {
      localAddress = value;
      return this;
    }

    /** The first address a server echoed sticks: a later EHLO (after TLS) only confirms it. */
    public Builder seenAddress(String value) {
      if (seenAddress == null) {
        seenAddress = value;
      }
      return this;
    }

    public ProbeResult build(Reason reason, String message) {
      return new ProbeResult(
          host,
          target,
          family,
          reason,
          message,
          addresses,
          address,
          negotiated,
          timings,
          greeting,
          capabilities,
          tlsCapabilities,
          authMechanisms,
          tls,
          authenticated,
          localAddress,
          seenAddress);
    }
  }
}
