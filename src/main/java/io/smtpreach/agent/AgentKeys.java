package io.smtpreach.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The keys an agent accepts requests signed with, read from its key file (a Secret the chart
 * mounts) at start and again when the file changes, so that a rotated key takes effect without a
 * restart. The file holds one key per line (surrounding white space ignored, each at least {@value
 * #MIN_KEY_BYTES} bytes of text, used as its UTF-8 bytes); the operator signs with the first. To
 * rotate without refusing anyone: put the new key first and keep the old one on the next line until
 * the operator and every agent have the new file, then drop the old one.
 *
 * <p>A Secret volume changes by an atomic swap of a symbolic link, which no file watch on the
 * mounted path sees reliably; the file is small, so it is simply read again when a request comes
 * more than {@link #DEFAULT_RECHECK} after the last read. A file that cannot be read or holds no
 * valid key then keeps the keys already known: a half-written Secret never locks the operator out.
 */
public final class AgentKeys {
  public static final int MIN_KEY_BYTES = 32;
  public static final Duration DEFAULT_RECHECK = Duration.ofSeconds(10);

  private final Path file;
  private final long recheckNanos;
  private volatile List<byte[]> keys;
  private volatile long readAt;

  private AgentKeys(Path file, Duration recheck, List<byte[]> keys) {
    this.file = file;
    this.recheckNanos = recheck.toNanos();
    this.keys = keys;
    this.readAt = System.nanoTime();
  }

  /** The keys of {@code file}, re-read when used {@code recheck} after the last read. */
  public static AgentKeys fromFile(Path file, Duration recheck) throws IOException {
    return new AgentKeys(file, recheck, read(file));
  }

  /** Fixed keys, never re-read: tests, and a client that holds its key in memory. */
  public static AgentKeys of(byte[]... keys) {
    List<byte[]> list = Arrays.stream(keys).map(byte[]::clone).toList();
    list.forEach(AgentKeys::check);
    return new AgentKeys(null, Duration.ZERO, list);
  }

  /** The keys in a key file's text, as the agent reads them: one per non-blank line. */
  public static List<byte[]> parse(String text) {
    List<byte[]> keys = new ArrayList<>();
    for (String line : text.split("\n")) {
      String key = line.strip();
      if (!key.isEmpty()) {
        keys.add(check(key.getBytes(StandardCharsets.UTF_8)));
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("no key in the key file");
    }
    return List.copyOf(keys);
  }

  private static byte[] check(byte[] key) {
    if (key.length < MIN_KEY_BYTES) {
      throw new IllegalArgumentException(
          "an agent key must have at least " + MIN_KEY_BYTES + " bytes");
    }
    return key;
  }

  private static List<byte[]> read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  /** The keys now: a request signed with any of them is accepted. */
  public List<byte[]> current() {
    if (file != null && System.nanoTime() - readAt >= recheckNanos) {
      readAt = System.nanoTime();
      try {
        keys = read(file);
      } catch (IOException | IllegalArgumentException e) {
        System.err.println(
            "smtp-reach agent: keeping the keys read before: cannot read " + file + ": " + e);
      }
    }
    return keys;
  }

  /** The key a client signs with. */
  public byte[] signing() {
    return current().get(0);
  }
}
