package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Whatever a result file or termination message holds, the decoder returns a report or refuses it
 * with a {@link MalformedReportException}; and every report it accepts survives being encoded
 * again, whole or within the kubelet's 4096 bytes.
 *
 * <p>Plain {@code ./mvnw test} replays the inputs in {@code ReportCodecFuzzTestInputs/}; set {@code
 * JAZZER_FUZZ=1} and pick one method with {@code -Dtest=...#method} to fuzz.
 */
class ReportCodecFuzzTest {

  /** Any text; the seeds are documents the encoder wrote, and broken ones. */
  @FuzzTest(maxDuration = "60s")
  void decodesText(byte[] input) {
    decodeAndReencode(new String(input, StandardCharsets.UTF_8));
  }

  /**
   * Documents that are version 1 in shape, with fields the fuzzer fills in, so that most inputs get
   * past the first refusal and into the round trip.
   */
  @FuzzTest(maxDuration = "60s")
  void decodesShapedDocuments(FuzzedDataProvider data) {
    JsonWriter w = new JsonWriter().beginObject();
    w.field("v", data.consumeBoolean() ? 1 : data.consumeInt());
    w.field("subject", string(data, "mail.example.com"));
    if (data.consumeBoolean()) {
      w.name("mx").value(data.consumeBoolean());
    }
    w.field("at", string(data, "2025-06-01T10:15:30.123Z"));
    w.name("results").beginArray();
    int results = data.consumeInt(0, 40);
    for (int i = 0; i < results && data.remainingBytes() > 0; i++) {
      result(w, data);
    }
    w.endArray();
    if (data.consumeBoolean()) {
      w.field(
          "truncated",
          switch (data.consumeInt(0, 2)) {
            case 0 -> data.consumeInt(0, 5);
            case 1 -> Integer.MAX_VALUE - data.consumeInt(0, 50);
            default -> data.consumeLong();
          });
    }
    decodeAndReencode(w.endObject().toString());
  }

  private static void result(JsonWriter w, FuzzedDataProvider data) {
    w.beginObject();
    if (data.consumeBoolean()) {
      w.field("host", string(data, "mx1.example.com"));
    }
    w.field(
        "port",
        data.consumeBoolean()
            ? data.pickValue(new int[] {25, 465, 587, 2525})
            : data.consumeLong());
    w.field("mode", pick(data, "None", "StartTLS", "Implicit", "Auto"));
    w.field("expect", pick(data, "Reachable", "Blocked", "Any", "open", "closed"));
    if (data.consumeBoolean()) {
      w.field("family", pick(data, "v4", "v6", "each", "any"));
    }
    w.field(
        "reason",
        data.consumeBoolean()
            ? data.pickValue(Reason.values()).displayName()
            : data.consumeString(24));
    w.field("message", data.consumeBoolean() ? text(data, 5000) : null);
    if (data.consumeBoolean()) {
      w.field("negotiated", pick(data, "None", "StartTLS", "Implicit", "Auto"));
    }
    w.field("address", data.consumeBoolean() ? "192.0.2.25" : null);
    w.field("addresses", strings(data));
    if (data.consumeBoolean()) {
      w.name("ms").beginObject();
      int n = data.consumeInt(0, 9);
      for (int i = 0; i < n; i++) {
        String key =
            data.consumeBoolean() ? data.pickValue(Phase.values()).key() : data.consumeString(12);
        w.field(key, data.consumeBoolean() ? data.consumeLong(0, 120_000) : data.consumeLong());
      }
      w.endObject();
    }
    w.field("greeting", data.consumeBoolean() ? text(data, 5000) : null);
    w.field("capabilities", strings(data));
    w.field("tlsCapabilities", strings(data));
    w.field("auth", strings(data));
    if (data.consumeBoolean()) {
      w.name("authenticated").value(data.consumeBoolean());
    }
    if (data.consumeBoolean()) {
      w.name("tls").beginObject();
      w.field("protocol", data.consumeBoolean() ? "TLSv1.3" : null);
      w.field("cipher", data.consumeBoolean() ? "TLS_AES_128_GCM_SHA256" : null);
      w.field("subject", data.consumeBoolean() ? text(data, 5000) : null);
      w.field("sans", strings(data));
      w.field("issuer", data.consumeBoolean() ? text(data, 5000) : null);
      if (data.consumeBoolean()) {
        w.field("notBefore", data.consumeLong());
      }
      if (data.consumeBoolean()) {
        w.field("notAfter", data.consumeLong(-62_135_596_800L, 253_402_300_799L));
      }
      w.endObject();
    }
    w.endObject();
  }

  private static String string(FuzzedDataProvider data, String usual) {
    return data.consumeBoolean() ? usual : text(data, 5000);
  }

  /** Short text, or one character many times: the size bound is reached from a few bytes. */
  private static String text(FuzzedDataProvider data, int max) {
    return data.consumeBoolean()
        ? data.consumeString(64)
        : String.valueOf(data.consumeChar()).repeat(data.consumeInt(0, max));
  }

  private static String pick(FuzzedDataProvider data, String... usual) {
    return data.consumeBoolean() ? data.pickValue(usual) : data.consumeString(12);
  }

  private static List<String> strings(FuzzedDataProvider data) {
    if (!data.consumeBoolean()) {
      return List.of();
    }
    int n = data.consumeInt(0, 12);
    String[] out = new String[n];
    for (int i = 0; i < n; i++) {
      out[i] = data.consumeString(64);
    }
    return List.of(out);
  }

  /** The properties: refuse or accept; what is accepted can be written and read back. */
  private static void decodeAndReencode(String json) {
    ProbeReport report;
    try {
      report = ReportCodec.decode(json);
    } catch (MalformedReportException e) {
      assertThat(e.getMessage()).isNotBlank();
      return;
    }

    ProbeReport whole = decodeOwn(ReportCodec.encode(report));
    assertThat(whole.subject()).isEqualTo(report.subject());
    assertThat(whole.truncated()).isEqualTo(report.truncated());
    assertThat(keys(whole.results())).isEqualTo(keys(report.results()));

    String bounded = ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT);
    assertThat(bounded.getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(ReportCodec.TERMINATION_MESSAGE_LIMIT);
    ProbeReport kept = decodeOwn(bounded);
    int n = kept.results().size();
    assertThat(keys(kept.results())).isEqualTo(keys(report.results().subList(0, n)));
    long leftOut = (long) report.results().size() + report.truncated() - n;
    assertThat((long) kept.truncated())
        .as("results counted as left out")
        .isEqualTo(Math.min(leftOut, Integer.MAX_VALUE));
  }

  private static ProbeReport decodeOwn(String json) {
    try {
      return ReportCodec.decode(json);
    } catch (MalformedReportException e) {
      throw new AssertionError("the decoder refused what the encoder wrote: " + json, e);
    }
  }

  /** What must survive any encoding: which port, in which mode, and why it is in its state. */
  private static List<String> keys(List<ProbeResult> results) {
    return results.stream()
        .map(r -> r.target().port() + "/" + r.target().mode() + "/" + r.reason())
        .toList();
  }
}
