package io.smtpreach.probe;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Reads SMTP replies from a stream with hard bounds on line length, line count and reply size, so
 * that a server sending an endless line or an endless multi-line reply is cut off at once.
 */
public final class SmtpReplyReader {
  /**
   * Bytes per reply line, its line ending included. RFC 5321 allows 512 octets per reply line; real
   * servers stay well under this.
   */
  public static final int MAX_LINE_BYTES = 2048;

  public static final int MAX_LINES = 100;

  /**
   * Bytes one reply may take, line endings included; the line that passes this is the last one
   * read, so a reply never takes more than this plus {@link #MAX_LINE_BYTES}.
   */
  public static final int MAX_REPLY_BYTES = 32 * 1024;

  private static final Pattern ENHANCED = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})(?: |$)");

  private final InputStream in;
  private final UnaryOperator<String> redact;
  private final Consumer<String> heard;
  private final byte[] line = new byte[MAX_LINE_BYTES];

  /** Bytes taken from the stream by the current reply. */
  private int replyBytes;

  /** The stream should be buffered: it is read a byte at a time. */
  public SmtpReplyReader(InputStream in) {
    this(in, UnaryOperator.identity());
  }

  /**
   * A reader whose replies, and the excerpts its exceptions keep, pass through {@code redact}
   * first: each line whole, before anything is cut from it.
   */
  public SmtpReplyReader(InputStream in, UnaryOperator<String> redact) {
    this(in, redact, line -> {});
  }

  /**
   * As {@link #SmtpReplyReader(InputStream, UnaryOperator)}, and {@code heard} gets each line as it
   * arrives, redacted and sanitized, whether or not it parses: a transcript shows what a server
   * that is not SMTP really sent.
   */
  public SmtpReplyReader(InputStream in, UnaryOperator<String> redact, Consumer<String> heard) {
    this.in = in;
    this.redact = redact;
    this.heard = heard;
  }

  /**
   * Reads one complete reply.
   *
   * @throws EOFException if the connection closed before the reply ended
   * @throws MalformedReplyException if the bytes are not an SMTP reply
   * @throws ReplyTooLongException if a bound was passed
   */
  public SmtpReply read() throws IOException {
    List<String> texts = new ArrayList<>();
    int code = -1;
    String enhanced = null;
    replyBytes = 0;
    while (true) {
      int length = readLine();
      String text = new String(line, 0, length, StandardCharsets.UTF_8);
      heard.accept(Text.sanitize(redact.apply(text), MAX_LINE_BYTES));
      if (replyBytes > MAX_REPLY_BYTES || texts.size() >= MAX_LINES) {
        throw new ReplyTooLongException(
            "reply longer than " + MAX_LINES + " lines or " + MAX_REPLY_BYTES + " bytes",
            Text.excerpt(redact.apply(text)));
      }
      ReplyLine parsed;
      try {
        parsed = parseLine(text);
      } catch (MalformedReplyException e) {
        throw new MalformedReplyException(e.getMessage(), Text.excerpt(redact.apply(text)));
      }
      String shown = redact.apply(parsed.text);
      if (code == -1) {
        code = parsed.code;
        var m = ENHANCED.matcher(shown);
        if (code / 100 != 3 && m.find()) {
          enhanced = m.group(1);
        }
      } else if (parsed.code != code) {
        throw new MalformedReplyException(
            "multi-line reply changed its code from " + code + " to " + parsed.code,
            Text.excerpt(redact.apply(text)));
      }
      texts.add(shown);
      if (parsed.last) {
        return new SmtpReply(code, enhanced, texts);
      }
    }
  }

  /** One line of a reply: {@code 250-PIPELINING} is code 250, not last, text PIPELINING. */
  public record ReplyLine(int code, boolean last, String text) {}

  /** Parses one reply line, without its line ending. */
  public static ReplyLine parseLine(String text) throws MalformedReplyException {
    if (text.length() < 3
        || !isDigit(text.charAt(0), '2', '5')
        || !isDigit(text.charAt(1), '0', '9')
        || !isDigit(text.charAt(2), '0', '9')) {
      throw new MalformedReplyException("not an SMTP reply", Text.excerpt(text));
    }
    int code = Integer.parseInt(text.substring(0, 3));
    if (text.length() == 3) {
      return new ReplyLine(code, true, "");
    }
    char separator = text.charAt(3);
    if (separator != ' ' && separator != '-') {
      throw new MalformedReplyException("not an SMTP reply", Text.excerpt(text));
    }
    return new ReplyLine(code, separator == ' ', text.substring(4));
  }

  private static boolean isDigit(char c, char low, char high) {
    return c >= low && c <= high;
  }

  /**
   * Reads up to LF into {@link #line}, dropping a trailing CR; returns the length. The LF must come
   * within {@link #MAX_LINE_BYTES} bytes.
   */
  private int readLine() throws IOException {
    int length = 0;
    while (true) {
      int b = in.read();
      if (b == -1) {
        throw new EOFException(
            length == 0
                ? "connection closed by the server"
                : "connection closed in the middle of a reply line");
      }
      replyBytes++;
      if (b == '\n') {
        return length > 0 && line[length - 1] == '\r' ? length - 1 : length;
      }
      if (length == MAX_LINE_BYTES - 1) {
        // Redacted whole, then cut: a secret across the cut leaves no prefix behind.
        String shown = redact.apply(new String(line, 0, length, StandardCharsets.UTF_8));
        throw new ReplyTooLongException(
            "reply line longer than " + MAX_LINE_BYTES + " bytes",
            Text.excerpt(shown.substring(0, Math.min(64, shown.length()))));
      }
      line[length++] = (byte) b;
    }
  }

  /** Reads what is there of a first line, for reports about a server that is not SMTP at all. */
  static String bytesExcerpt(byte[] data, int length) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < length && data[i] != '\n' && data[i] != '\r'; i++) {
      out.write(data[i]);
    }
    return Text.excerpt(out.toString(StandardCharsets.UTF_8));
  }
}
