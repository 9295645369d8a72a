package io.smtpreach.probe;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The result of a probe pod that probed several endpoints: one line per endpoint, in the order of
 * its arguments, each a {@link ReportCodec} report or why that endpoint could not be probed. A pod
 * with one endpoint leaves exactly the report {@code smtp-reach probe --result-file} writes.
 *
 * <p>All lines share the kubelet's 4096 bytes. Plain lines are kept when they fit, since {@code
 * kubectl describe pod} shows them; otherwise they are gzipped and base64-encoded after {@value
 * #COMPRESSED}: the ports of one server repeat their greeting, capabilities and certificate, so a
 * four-port report of 3.3 KB takes under 0.9 KB. Only when that is not enough does detail go, every
 * endpoint alike, and state and reason go last.
 */
public final class BatchCodec {
  /** Marks a compressed result; a plain one starts with a JSON object. */
  static final String COMPRESSED = "z:";

  /** Larger decompressed results are refused: a hostile pod cannot make us inflate a bomb. */
  static final int MAX_INFLATED_BYTES = 256 * 1024;

  /** One endpoint's line: its report, or the reason it could not be probed. */
  public record Entry(ProbeReport report, String error) {
    public static Entry probed(ProbeReport report) {
      return new Entry(report, null);
    }

    public static Entry failed(String error) {
      return new Entry(null, Text.sanitize(error, 300));
    }
  }

  private BatchCodec() {}

  /** The entries in at most {@code maxBytes} UTF-8 bytes, with as much detail as fits. */
  public static String encode(List<Entry> entries, int maxBytes) {
    for (ReportCodec.Detail detail : ReportCodec.Detail.values()) {
      String plain = lines(entries, detail);
      byte[] bytes = plain.getBytes(StandardCharsets.UTF_8);
      if (bytes.length <= maxBytes) {
        return plain;
      }
      String compressed = COMPRESSED + Base64.getEncoder().encodeToString(gzip(bytes));
      if (compressed.length() <= maxBytes) {
        return compressed;
      }
    }
    // Each endpoint gets an equal share; its report drops results to fit (and says how many).
    int share = (maxBytes + 1) / entries.size() - 1;
    List<String> lines = new ArrayList<>();
    for (Entry e : entries) {
      lines.add(e.report() == null ? error(e.error()) : ReportCodec.encode(e.report(), share));
    }
    return String.join("\n", lines);
  }

  /** Reads a pod's result; anything else is refused with a reason. */
  public static List<Entry> decode(String message) throws MalformedReportException {
    List<Entry> entries = new ArrayList<>();
    for (String line : lines(message)) {
      entries.add(decodeLine(line));
    }
    return entries;
  }

  /**
   * A pod's result lines, inflated if compressed, not yet read: an endpoint of a shared pod reads
   * its own line only ({@link #decodeLine}), not its neighbours' too.
   */
  public static List<String> lines(String message) throws MalformedReportException {
    if (message == null || message.isBlank()) {
      throw new MalformedReportException("empty result");
    }
    String text = message.startsWith(COMPRESSED) ? inflate(message) : message;
    return List.of(text.strip().split("\n"));
  }

  /** One endpoint's line: its report, or why it could not be probed. */
  public static Entry decodeLine(String line) throws MalformedReportException {
    return ReportParser.decodeEntry(line);
  }

  private static String lines(List<Entry> entries, ReportCodec.Detail detail) {
    StringBuilder out = new StringBuilder();
    for (Entry e : entries) {
      if (!out.isEmpty()) {
        out.append('\n');
      }
      out.append(e.report() == null ? error(e.error()) : ReportCodec.encode(e.report(), detail));
    }
    return out.toString();
  }

  private static String error(String message) {
    return new JsonWriter()
        .beginObject()
        .field("v", ReportCodec.VERSION)
        .field("error", message)
        .endObject()
        .toString();
  }

  private static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 4);
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in memory: cannot happen
    }
    return out.toByteArray();
  }

  private static String inflate(String message) throws MalformedReportException {
    byte[] compressed;
    try {
      compressed = Base64.getDecoder().decode(message.substring(COMPRESSED.length()).strip());
    } catch (IllegalArgumentException e) {
      throw new MalformedReportException("compressed result is not base64");
    }
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(compressed))) {
      byte[] bytes = in.readNBytes(MAX_INFLATED_BYTES + 1);
      if (bytes.length > MAX_INFLATED_BYTES) {
        throw new MalformedReportException(
            "compressed result inflates beyond " + MAX_INFLATED_BYTES + " bytes");
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new MalformedReportException("compressed result is not gzip: " + e.getMessage(), e);
    }
  }
}
