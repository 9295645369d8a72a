package io.smtpreach.probe;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The versioned JSON form of a {@link ProbeReport}: what {@code --json} prints, what {@code
 * --result-file} writes, and what a probe pod leaves as its termination message. Under a size bound
 * (a kubelet keeps 4096 bytes) the least important facts go first; the state and reason of every
 * target are the last thing to be dropped, and a count says how many results were left out.
 */
public final class ReportCodec {
  public static final int VERSION = 1;

  /** The kubelet's limit for a container's termination message. */
  public static final int TERMINATION_MESSAGE_LIMIT = 4096;

  /** The longest DNS name; a subject is shortened to this only when nothing else fits. */
  private static final int MAX_HOST_CHARS = 253;

  /** Larger documents are refused before parsing. */
  public static final int MAX_DECODE_BYTES = 64 * 1024;

  /**
   * How much detail survives, from everything down to state and reason only. Each level keeps what
   * the operator's status shows longest: TLS version, certificate expiry and issuer.
   */
  enum Detail {
    FULL,
    NO_CAPABILITIES,
    NO_GREETING,
    NO_CERT_SUBJECT,
    SHORT,
    MINIMAL
  }

  private ReportCodec() {}

  /** The whole report, nothing left out. */
  public static String encode(ProbeReport report) {
    return write(report, Detail.FULL, report.results().size(), report.truncated());
  }

  /** The report in at most {@code maxBytes} UTF-8 bytes, dropping detail and then results. */
  public static String encode(ProbeReport report, int maxBytes) {
    int all = report.results().size();
    for (Detail detail : Detail.values()) {
      String json = write(report, detail, all, report.truncated());
      if (fits(json, maxBytes)) {
        return json;
      }
    }
    for (int keep = all - 1; keep >= 0; keep--) {
      String json = write(report, Detail.MINIMAL, keep, leftOut(report, keep));
      if (fits(json, maxBytes)) {
        return json;
      }
    }
    // Only a subject far longer than any host name is left: shorten it rather than write nothing.
    ProbeReport shortened =
        new ProbeReport(
            Text.sanitize(report.subject(), MAX_HOST_CHARS),
            report.mx(),
            report.startedAt(),
            report.results(),
            report.truncated(),
            report.egress());
    String json = write(shortened, Detail.MINIMAL, 0, leftOut(report, 0));
    if (fits(json, maxBytes)) {
      return json;
    }
    throw new IllegalArgumentException("a report cannot fit in " + maxBytes + " bytes");
  }

  /**
   * Results left out when {@code keep} are written; a decoded count may already be near the top.
   */
  private static int leftOut(ProbeReport report, int keep) {
    long leftOut = (long) report.truncated() + report.results().size() - keep;
    return (int) Math.min(leftOut, Integer.MAX_VALUE);
  }

  private static boolean fits(String json, int maxBytes) {
    // Cheap check first: a char is at most 3 UTF-8 bytes here (no unpaired surrogates survive
    // Text).
    return json.length() * 3 <= maxBytes
        || json.getBytes(StandardCharsets.UTF_8).length <= maxBytes;
  }

  private static String write(ProbeReport report, Detail detail, int keep, int truncated) {
    JsonWriter w = new JsonWriter().beginObject();
    w.field("v", VERSION);
    w.field("subject", report.subject());
    if (report.mx()) {
      w.name("mx").value(true);
    }
    w.field("at", report.startedAt().toString());
    report
        .recommended()
        .ifPresent(r -> w.field("recommended", r.port() + "/" + r.mode().displayName()));
    w.name("results").beginArray();
    for (ProbeResult r : report.results().subList(0, keep)) {
      writeResult(w, r, report.subject(), detail);
    }
    w.endArray();
    if (truncated > 0) {
      w.field("truncated", truncated);
    }
    if (report.egress() != null && detail != Detail.MINIMAL) {
      writeEgress(w, report.egress(), detail.compareTo(Detail.SHORT) < 0);
    }
    return w.endObject().toString();
  }

  /**
   * The egress facts survive every level but the smallest, where only state and reason fit; at
   * {@link Detail#SHORT} a list's reason is cut short.
   */
  private static void writeEgress(JsonWriter w, EgressFacts e, boolean fullReasons) {
    w.name("egress").beginObject();
    w.field("address", e.address());
    w.field("seenBy", e.seenBy().displayName());
    if (e.local() != null && !e.local().equals(e.address())) {
      w.field("local", e.local());
    }
    w.field("ptr", e.ptr());
    if (e.ptrConfirmed() != null) {
      w.name("ptrConfirmed").value(e.ptrConfirmed());
    }
    if (!e.lists().isEmpty()) {
      w.name("lists").beginArray();
      for (EgressFacts.Dnsbl l : e.lists()) {
        w.beginObject();
        w.field("zone", l.zone());
        w.field("verdict", l.verdict().displayName());
        w.field(
            "detail",
            fullReasons ? l.detail() : Text.sanitize(l.detail(), EgressFacts.SHORT_DETAIL_CHARS));
        w.endObject();
      }
      w.endArray();
    }
    w.endObject();
  }

  private static void writeResult(JsonWriter w, ProbeResult r, String subject, Detail detail) {
    boolean full = detail == Detail.FULL;
    boolean keepCaps = detail.compareTo(Detail.NO_CAPABILITIES) < 0;
    boolean keepGreeting = detail.compareTo(Detail.NO_GREETING) < 0;
    boolean keepSubject = detail.compareTo(Detail.NO_CERT_SUBJECT) < 0;
    boolean keepTimings = detail.compareTo(Detail.SHORT) < 0;
    boolean minimal = detail == Detail.MINIMAL;

    w.beginObject();
    if (!r.host().equals(subject)) {
      w.field("host", r.host());
    }
    w.field("port", r.target().port());
    w.field("mode", r.target().mode().displayName());
    w.field("expect", camel(r.target().expect().name()));
    if (r.family() != IpFamily.ANY) {
      w.field("family", r.family().name().toLowerCase(Locale.ROOT));
    }
    w.field("reason", r.reason().displayName());
    w.field(
        "message",
        minimal
            ? Text.sanitize(r.message(), 40)
            : keepTimings ? r.message() : Text.sanitize(r.message(), 100));
    if (r.negotiated() != null) {
      w.field("negotiated", r.negotiated().displayName());
    }
    if (!minimal) {
      w.field("address", r.address());
    }
    if (full) {
      w.field("addresses", r.addresses());
    }
    if (!r.timings().isEmpty() && !minimal) {
      w.name("ms").beginObject();
      for (Map.Entry<Phase, Duration> t : r.timings().entrySet()) {
        if (keepTimings || t.getKey() == Phase.TOTAL || t.getKey() == Phase.CONNECT) {
          w.field(t.getKey().key(), t.getValue().toMillis());
        }
      }
      w.endObject();
    }
    if (keepGreeting) {
      w.field("greeting", r.greeting());
    }
    if (keepCaps) {
      w.field("capabilities", r.capabilities());
      w.field("tlsCapabilities", r.tlsCapabilities());
    }
    if (!minimal) {
      w.field("auth", r.authMechanisms());
    }
    if (r.authenticated() != null) {
      w.name("authenticated").value(r.authenticated());
    }
    TlsFacts tls = r.tls();
    if (tls != null) {
      w.name("tls").beginObject();
      w.field("protocol", tls.protocol());
      if (!minimal) {
        w.field("cipher", tls.cipherSuite());
      }
      CertificateFacts c = tls.certificate();
      if (c != null) {
        if (keepSubject) {
          w.field("subject", c.subject());
          w.field("sans", c.subjectAltNames());
          // Absent when a report bounded to SHORT detail or less was decoded.
          if (c.notBefore() != null) {
            w.field("notBefore", c.notBefore().getEpochSecond());
          }
        }
        if (!minimal) {
          w.field("issuer", Text.sanitize(c.issuer(), keepTimings ? 200 : 80));
        }
        w.field("notAfter", c.notAfter().getEpochSecond());
      }
      w.endObject();
    }
    w.endObject();
  }

  /** The report at one level of detail, with every result. */
  static String encode(ProbeReport report, Detail detail) {
    return write(report, detail, report.results().size(), report.truncated());
  }

  /** Reads a report; anything that is not a valid version-1 report is refused with a reason. */
  public static ProbeReport decode(String json) throws MalformedReportException {
    return ReportParser.decode(json);
  }

  static String camel(String constant) {
    return constant.charAt(0) + constant.substring(1).toLowerCase(Locale.ROOT);
  }
}
