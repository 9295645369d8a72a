package io.smtpreach.probe;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The reading half of {@link ReportCodec}, in its own class so that the probe, which only writes
 * reports, neither loads nor needs Jackson on its class path.
 */
final class ReportParser {
  private static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  static {
    MAPPER
        .getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder().maxNestingDepth(16).maxStringLength(8192).build());
  }

  private ReportParser() {}

  /** Reads a report; anything that is not a valid version-1 report is refused with a reason. */
  static ProbeReport decode(String json) throws MalformedReportException {
    return decode(tree(json));
  }

  /** Reads one line of a batch result: a report, or why that endpoint could not be probed. */
  static BatchCodec.Entry decodeEntry(String json) throws MalformedReportException {
    JsonNode root = tree(json);
    JsonNode error = root.get("error");
    return error != null
        ? BatchCodec.Entry.failed(text(root, "error", true))
        : BatchCodec.Entry.probed(decode(root));
  }

  private static JsonNode tree(String json) throws MalformedReportException {
    if (json == null || json.isBlank()) {
      throw new MalformedReportException("empty result");
    }
    if (json.length() > ReportCodec.MAX_DECODE_BYTES) {
      throw new MalformedReportException(
          "result larger than " + ReportCodec.MAX_DECODE_BYTES + " bytes");
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new MalformedReportException("result is not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new MalformedReportException("result is not a JSON object");
    }
    JsonNode version = root.get("v");
    if (version == null || !version.isInt() || version.intValue() != ReportCodec.VERSION) {
      throw new MalformedReportException(
          "unsupported result version " + version + " (expected " + ReportCodec.VERSION + ")");
    }
    return root;
  }

  private static ProbeReport decode(JsonNode root) throws MalformedReportException {
    String subject = text(root, "subject", true);
    Instant at;
    try {
      at = Instant.parse(text(root, "at", true));
    } catch (DateTimeParseException e) {
      throw new MalformedReportException("'at' is not an ISO-8601 instant");
    }
    JsonNode results = root.get("results");
    if (results == null || !results.isArray()) {
      throw new MalformedReportException("'results' must be an array");
    }
    List<ProbeResult> decoded = new ArrayList<>();
    for (JsonNode r : results) {
      decoded.add(decodeResult(r, subject));
    }
    JsonNode mx = root.get("mx");
    int truncated = (int) number(root, "truncated", 0, 0, Integer.MAX_VALUE);
    return new ProbeReport(
        subject, mx != null && mx.asBoolean(false), at, decoded, truncated, egress(root));
  }

  /** An IP literal as the probe writes one (IPv6 with an optional zone). */
  private static final java.util.regex.Pattern ADDRESS =
      java.util.regex.Pattern.compile("[0-9A-Fa-f:.]{2,45}(%[A-Za-z0-9_.-]{1,32})?");

  /**
   * The egress facts, if present. They become status fields, Events and metric labels: an address
   * must be an address literal, names and zones bounded, and a list's reason is made safe to show.
   */
  private static EgressFacts egress(JsonNode root) throws MalformedReportException {
    JsonNode e = root.get("egress");
    if (e == null) {
      return null;
    }
    if (!e.isObject()) {
      throw new MalformedReportException("'egress' must be an object");
    }
    String address = address(e, "address", true);
    EgressFacts.SeenBy seenBy;
    try {
      seenBy = EgressFacts.SeenBy.fromDisplayName(text(e, "seenBy", true));
    } catch (IllegalArgumentException x) {
      throw new MalformedReportException(x.getMessage());
    }
    String local = address(e, "local", false);
    String ptr = bounded(e, "ptr", 253);
    JsonNode confirmed = e.get("ptrConfirmed");
    if (confirmed != null && !confirmed.isBoolean()) {
      throw new MalformedReportException("'ptrConfirmed' must be true or false");
    }
    List<EgressFacts.Dnsbl> lists = new ArrayList<>();
    JsonNode l = e.get("lists");
    if (l != null) {
      if (!l.isArray() || l.size() > EgressFacts.MAX_LISTS) {
        throw new MalformedReportException(
            "'lists' must be an array of at most " + EgressFacts.MAX_LISTS + " objects");
      }
      for (JsonNode entry : l) {
        if (!entry.isObject()) {
          throw new MalformedReportException("each of 'lists' must be an object");
        }
        EgressFacts.Verdict verdict;
        try {
          verdict = EgressFacts.Verdict.fromDisplayName(text(entry, "verdict", true));
        } catch (IllegalArgumentException x) {
          throw new MalformedReportException(x.getMessage());
        }
        String zone = bounded(entry, "zone", 253);
        if (zone == null) {
          throw new MalformedReportException("missing 'zone'");
        }
        lists.add(
            new EgressFacts.Dnsbl(
                zone,
                verdict,
                Text.sanitize(text(entry, "detail", false), EgressFacts.MAX_DETAIL_CHARS)));
      }
    }
    return new EgressFacts(
        address,
        seenBy,
        local == null ? address : local,
        ptr,
        confirmed == null ? null : confirmed.booleanValue(),
        lists);
  }

  private static String address(JsonNode node, String field, boolean required)
      throws MalformedReportException {
    String a = text(node, field, required);
    if (a != null && !ADDRESS.matcher(a).matches()) {
      throw new MalformedReportException("'" + field + "' is not an IP address");
    }
    return a;
  }

  /** A name shown as it is: printable, and no longer than DNS allows. */
  private static String bounded(JsonNode node, String field, int max)
      throws MalformedReportException {
    String v = text(node, field, false);
    if (v != null && (v.length() > max || !v.equals(Text.sanitize(v, max)))) {
      throw new MalformedReportException(
          "'" + field + "' must be printable and at most " + max + " characters");
    }
    return v;
  }

  private static ProbeResult decodeResult(JsonNode r, String subject)
      throws MalformedReportException {
    if (!r.isObject()) {
      throw new MalformedReportException("each result must be an object");
    }
    String host = text(r, "host", false);
    int port = (int) number(r, "port", -1, 1, 65535);
    if (port < 0) {
      throw new MalformedReportException("a result has no 'port'");
    }
    TlsMode mode = mode(text(r, "mode", true));
    Expectation expect;
    try {
      expect = Expectation.parse(text(r, "expect", true));
    } catch (IllegalArgumentException e) {
      throw new MalformedReportException(e.getMessage());
    }
    String familyText = text(r, "family", false);
    IpFamily family;
    if (familyText == null) {
      family = IpFamily.ANY;
    } else if (familyText.equals("v4") || familyText.equals("v6")) {
      family = IpFamily.parse(familyText);
    } else {
      throw new MalformedReportException("unknown family '" + familyText + "'");
    }
    Reason reason;
    try {
      reason = Reason.fromDisplayName(text(r, "reason", true));
    } catch (IllegalArgumentException e) {
      throw new MalformedReportException(e.getMessage());
    }
    String negotiated = text(r, "negotiated", false);
    EnumMap<Phase, Duration> timings = new EnumMap<>(Phase.class);
    JsonNode ms = r.get("ms");
    if (ms != null) {
      if (!ms.isObject()) {
        throw new MalformedReportException("'ms' must be an object");
      }
      Iterator<Map.Entry<String, JsonNode>> it = ms.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        Phase phase;
        try {
          phase = Phase.fromKey(e.getKey());
        } catch (IllegalArgumentException x) {
          continue; // a phase a newer probe measures; nothing to do with it here
        }
        if (!e.getValue().canConvertToLong() || e.getValue().longValue() < 0) {
          throw new MalformedReportException(
              "timing '" + e.getKey() + "' must be a non-negative number");
        }
        timings.put(phase, Duration.ofMillis(e.getValue().longValue()));
      }
    }
    TlsFacts tls = null;
    JsonNode t = r.get("tls");
    if (t != null) {
      if (!t.isObject()) {
        throw new MalformedReportException("'tls' must be an object");
      }
      CertificateFacts cert = null;
      if (t.has("notAfter")) {
        cert =
            new CertificateFacts(
                text(t, "subject", false),
                text(t, "issuer", false),
                texts(t, "sans"),
                t.has("notBefore") ? instant(t, "notBefore") : null,
                instant(t, "notAfter"));
      }
      tls = new TlsFacts(text(t, "protocol", false), text(t, "cipher", false), cert);
    }
    JsonNode authenticated = r.get("authenticated");
    if (authenticated != null && !authenticated.isBoolean()) {
      throw new MalformedReportException("'authenticated' must be true or false");
    }
    return new ProbeResult(
        host == null ? subject : host,
        new ProbeTarget(port, mode, expect),
        family,
        reason,
        text(r, "message", false),
        texts(r, "addresses"),
        text(r, "address", false),
        negotiated == null ? null : mode(negotiated),
        timings,
        text(r, "greeting", false),
        texts(r, "capabilities"),
        texts(r, "tlsCapabilities"),
        texts(r, "auth"),
        tls,
        authenticated == null ? null : authenticated.booleanValue());
  }

  private static TlsMode mode(String displayName) throws MalformedReportException {
    for (TlsMode m : TlsMode.values()) {
      if (m.displayName().equals(displayName)) {
        return m;
      }
    }
    throw new MalformedReportException("unknown TLS mode '" + displayName + "'");
  }

  private static String text(JsonNode node, String field, boolean required)
      throws MalformedReportException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new MalformedReportException("missing '" + field + "'");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw new MalformedReportException("'" + field + "' must be a string");
    }
    return v.textValue();
  }

  private static List<String> texts(JsonNode node, String field) throws MalformedReportException {
    JsonNode v = node.get(field);
    if (v == null) {
      return List.of();
    }
    if (!v.isArray()) {
      throw new MalformedReportException("'" + field + "' must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : v) {
      if (!e.isTextual()) {
        throw new MalformedReportException("'" + field + "' must be an array of strings");
      }
      out.add(e.textValue());
    }
    return out;
  }

  private static long number(JsonNode node, String field, long absent, long min, long max)
      throws MalformedReportException {
    JsonNode v = node.get(field);
    if (v == null) {
      return absent;
    }
    if (!v.isIntegralNumber()
        || !v.canConvertToLong()
        || v.longValue() < min
        || v.longValue() > max) {
      throw new MalformedReportException(
          "'" + field + "' must be a whole number from " + min + " to " + max);
    }
    return v.longValue();
  }

  private static Instant instant(JsonNode node, String field) throws MalformedReportException {
    // Seconds between year 0 and 9999 keep Instant arithmetic (days left) safe.
    return Instant.ofEpochSecond(number(node, field, 0, -62_135_596_800L, 253_402_300_799L));
  }
}
