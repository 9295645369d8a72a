package io.smtpreach.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * One port's verdict. With several sources (or families, with ipFamily Each), the port shows its
 * worst entry (one not as expected first) and {@link #sources} lists each, failing ones first.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PortStatus {
  public Integer port;
  public String tls;
  public String expect;

  @JsonPropertyDescription(
      "Reachable, Blocked, Refused, Unreachable, DnsFailure, Rejected, ModeMismatch, TlsFailure,"
          + " ProtocolError or Error.")
  public String state;

  @JsonPropertyDescription("Precisely what happened, e.g. ConnectTimeout or StartTlsNotOffered.")
  public String reason;

  public String message;

  @JsonPropertyDescription("True when the state matches the expectation from every source.")
  public Boolean asExpected;

  @JsonPropertyDescription("When the state last changed.")
  public String since;

  @JsonPropertyDescription("Reachable with TLS from every source: usable for submission.")
  public Boolean secure;

  @JsonPropertyDescription("The source the state, reason and facts come from.")
  public String source;

  @JsonPropertyDescription("The TLS mode really used (Auto resolves to another).")
  public String negotiated;

  @JsonPropertyDescription(
      "Milliseconds per phase: dns, connect, greeting, ehlo, starttls, tls, total.")
  public Timings timings;

  public TlsFacts tlsFacts;

  public List<String> authMechanisms;

  @JsonPropertyDescription(
      "Each source's verdict (with ipFamily Each, each source's per family), failing first (at"
          + " most 32).")
  public List<SourceStatus> sources = new ArrayList<>();

  @JsonPropertyDescription("Entries left out of the list to bound its size.")
  public Integer sourcesOmitted;

  /** Phase durations in milliseconds. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Timings {
    public Long dns;
    public Long connect;
    public Long greeting;
    public Long ehlo;
    public Long starttls;
    public Long tls;
    public Long total;
  }

  /** The negotiated TLS session and the server's certificate. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class TlsFacts {
    public String version;
    public String cipher;
    public String subject;
    public String issuer;

    @JsonPropertyDescription("The certificate's notAfter, RFC 3339.")
    public String notAfter;
  }
}
