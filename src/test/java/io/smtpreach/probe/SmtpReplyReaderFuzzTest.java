package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Whatever a server sends, the reply reader returns a well-formed reply or refuses the bytes with
 * one of its own exceptions, and it never reads more than one reply's bound for one reply.
 *
 * <p>Plain {@code ./mvnw test} replays the inputs in {@code SmtpReplyReaderFuzzTestInputs/}; set
 * {@code JAZZER_FUZZ=1} and pick one method with {@code -Dtest=...#method} to fuzz.
 */
class SmtpReplyReaderFuzzTest {

  /** What one {@link SmtpReplyReader#read()} may consume at most: the reply, then one line. */
  private static final int MAX_BYTES_PER_READ =
      SmtpReplyReader.MAX_REPLY_BYTES + SmtpReplyReader.MAX_LINE_BYTES;

  /** The raw bytes of a server's side of a dialogue; the seeds are real replies. */
  @FuzzTest(maxDuration = "60s")
  void readsServerBytes(byte[] input) throws IOException {
    readAll(input);
    for (String line : new String(input, StandardCharsets.UTF_8).split("\r?\n", -1)) {
      parseLine(line);
    }
  }

  /**
   * Replies built from repeated lines, so that the bounds of 2048 bytes a line, 100 lines and 32
   * KiB a reply are reached from inputs of a few bytes.
   */
  @FuzzTest(maxDuration = "60s")
  void readsRepeatedLines(FuzzedDataProvider data) throws IOException {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    while (data.remainingBytes() > 0 && stream.size() < 3 * MAX_BYTES_PER_READ) {
      int repeat = data.consumeInt(1, 120);
      byte[] line;
      if (data.consumeBoolean()) {
        line = data.consumeBytes(data.consumeInt(0, 16));
      } else {
        line = replyLine(data);
      }
      for (int i = 0; i < repeat; i++) {
        stream.writeBytes(line);
      }
    }
    readAll(stream.toByteArray());
  }

  private static byte[] replyLine(FuzzedDataProvider data) {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int code = data.consumeBoolean() ? data.consumeInt(200, 599) : data.consumeInt(0, 999);
    line.writeBytes(Integer.toString(code).getBytes(StandardCharsets.US_ASCII));
    line.write(data.pickValue(new byte[] {' ', '-', ' ', '-', '\r', 'x'}));
    line.writeBytes(data.consumeBytes(data.consumeInt(0, 8)));
    // Most bugs live at the bounds: short lines, or lines a few bytes either side of the limit.
    int padding =
        switch (data.consumeInt(0, 2)) {
          case 0 -> data.consumeInt(0, 64);
          case 1 -> SmtpReplyReader.MAX_LINE_BYTES - data.consumeInt(0, 24);
          default -> data.consumeInt(0, SmtpReplyReader.MAX_LINE_BYTES + 8);
        };
    byte fill = data.consumeByte();
    for (int i = 0; i < padding; i++) {
      line.write(fill);
    }
    line.writeBytes(
        data.pickValue(
            new byte[][] {{'\r', '\n'}, {'\n'}, {'\r', '\n'}, {'\r'}, {'\r', '\r', '\n'}}));
    return line.toByteArray();
  }

  /** Reads replies until the stream ends, checking each reply and what each read consumed. */
  private static void readAll(byte[] stream) throws IOException {
    CountingInputStream in = new CountingInputStream(new ByteArrayInputStream(stream));
    SmtpReplyReader reader = new SmtpReplyReader(in);
    while (true) {
      long before = in.count;
      try {
        check(reader.read());
      } catch (EOFException e) {
        return;
      } catch (MalformedReplyException e) {
        // Refused: the next read starts wherever this one stopped, as on a real connection.
        assertThat(e.excerpt()).isNotNull();
      } finally {
        assertThat(in.count - before)
            .as("bytes consumed by one read")
            .isLessThanOrEqualTo(MAX_BYTES_PER_READ);
      }
    }
  }

  private static void check(SmtpReply reply) {
    assertThat(reply.code()).isBetween(200, 599);
    assertThat(reply.lines()).isNotEmpty().hasSizeLessThanOrEqualTo(SmtpReplyReader.MAX_LINES);
    for (String line : reply.lines()) {
      assertThat(line.length()).isLessThan(SmtpReplyReader.MAX_LINE_BYTES);
    }
    if (reply.enhancedCode() != null) {
      assertThat(reply.enhancedCode()).matches("[245]\\.\\d{1,3}\\.\\d{1,3}");
    }
    assertThat(reply.summary()).startsWith(Integer.toString(reply.code()));
  }

  private static void parseLine(String line) {
    try {
      SmtpReplyReader.ReplyLine parsed = SmtpReplyReader.parseLine(line);
      assertThat(parsed.code()).isBetween(200, 599);
      assertThat(parsed.text()).isNotNull();
    } catch (MalformedReplyException e) {
      assertThat(e.getClass()).isEqualTo(MalformedReplyException.class);
    }
  }

  /** Counts the bytes the reader took, including any byte that made it give up. */
  private static final class CountingInputStream extends FilterInputStream {
    long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b != -1) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
