package io.smtpreach.agent;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the operator asks an agent: each endpoint's probe arguments (as {@code smtp-reach batch}
 * takes them, one list per endpoint) and the instant by which the agent must answer.
 *
 * <p>The body is a list of fields, {@code NAME LENGTH:VALUE\n}, the length in UTF-8 bytes, as the
 * pod signature writes its fields: no value (a line break, a quote, a plus sign) can pose as
 * another field, and reading it needs no JSON library on the probe's class path. The fields, in
 * this order: {@code version 1:1}, {@code deadline N:EPOCH_MILLIS}, then per endpoint {@code
 * endpoint 0:} followed by one {@code arg N:WORD} per argument.
 */
public record ProbeRequest(Instant deadline, List<List<String>> endpoints) {
  public static final String VERSION = "1";

  /** The longest argument read: far more than any host name, EHLO name or port list needs. */
  static final int MAX_ARG_BYTES = 8192;

  /** The most arguments one endpoint may have. */
  static final int MAX_ARGS_PER_ENDPOINT = 64;

  public ProbeRequest {
    endpoints = endpoints.stream().map(List::copyOf).toList();
  }

  /** The request body. */
  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    field(out, "version", VERSION);
    field(out, "deadline", Long.toString(deadline.toEpochMilli()));
    for (List<String> args : endpoints) {
      field(out, "endpoint", "");
      for (String arg : args) {
        field(out, "arg", arg);
      }
    }
    return out.toByteArray();
  }

  private static void field(ByteArrayOutputStream out, String name, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    out.writeBytes((name + " " + bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(bytes);
    out.write('\n');
  }

  /** Thrown for a body that is not a request of this version within the limits. */
  public static final class MalformedRequestException extends Exception {
    private final boolean tooLarge;

    MalformedRequestException(String message, boolean tooLarge) {
      super(message);
      this.tooLarge = tooLarge;
    }

    /** Whether the request broke a size limit (413) rather than the format (400). */
    public boolean tooLarge() {
      return tooLarge;
    }
  }

  /** Reads a body; anything else is refused with a reason (no value is quoted in it). */
  public static ProbeRequest decode(byte[] body, int maxEndpoints)
      throws MalformedRequestException {
    Reader in = new Reader(body);
    expect(in.next(), "version");
    if (!in.value.equals(VERSION)) {
      throw new MalformedRequestException("unsupported version", false);
    }
    expect(in.next(), "deadline");
    Instant deadline;
    try {
      deadline = Instant.ofEpochMilli(Long.parseLong(in.value));
    } catch (NumberFormatException e) {
      throw new MalformedRequestException("deadline is not a number of milliseconds", false);
    }
    List<List<String>> endpoints = new ArrayList<>();
    List<String> current = null;
    for (String name = in.next(); name != null; name = in.next()) {
      switch (name) {
        case "endpoint" -> {
          if (endpoints.size() == maxEndpoints) {
            throw new MalformedRequestException(
                "more than " + maxEndpoints + " endpoints in one request", true);
          }
          current = new ArrayList<>();
          endpoints.add(current);
        }
        case "arg" -> {
          if (current == null) {
            throw new MalformedRequestException("an argument before any endpoint", false);
          }
          if (current.size() == MAX_ARGS_PER_ENDPOINT) {
            throw new MalformedRequestException(
                "more than " + MAX_ARGS_PER_ENDPOINT + " arguments for one endpoint", true);
          }
          current.add(in.value);
        }
        default -> throw new MalformedRequestException("unknown field", false);
      }
    }
    if (endpoints.isEmpty()) {
      throw new MalformedRequestException("no endpoint", false);
    }
    return new ProbeRequest(deadline, endpoints);
  }

  private static void expect(String name, String expected) throws MalformedRequestException {
    if (!expected.equals(name)) {
      throw new MalformedRequestException("expected the field " + expected, false);
    }
  }

  /** Reads the fields one at a time. */
  private static final class Reader {
    private final byte[] body;
    private int at;
    String value;

    Reader(byte[] body) {
      this.body = body;
    }

    /** The next field's name (its value in {@link #value}), or null at the end. */
    String next() throws MalformedRequestException {
      if (at == body.length) {
        return null;
      }
      int start = at;
      int space = indexOf((byte) ' ', 16);
      String name = new String(body, start, space - start, StandardCharsets.US_ASCII);
      int colon = indexOf((byte) ':', 8);
      int length = length(space + 1, colon);
      if (length > MAX_ARG_BYTES) {
        throw new MalformedRequestException(
            "a value longer than " + MAX_ARG_BYTES + " bytes", true);
      }
      int end = colon + 1 + length;
      if (end >= body.length || body[end] != '\n') {
        throw new MalformedRequestException("a field does not end where its length says", false);
      }
      value = utf8(colon + 1, length);
      at = end + 1;
      return name;
    }

    private int indexOf(byte b, int within) throws MalformedRequestException {
      for (int i = at; i < Math.min(body.length, at + within + 1); i++) {
        if (body[i] == b) {
          at = i + 1;
          return i;
        }
      }
      throw new MalformedRequestException("not a field", false);
    }

    private int length(int from, int to) throws MalformedRequestException {
      if (from == to) {
        throw new MalformedRequestException("a field without a length", false);
      }
      int n = 0;
      for (int i = from; i < to; i++) {
        if (body[i] < '0' || body[i] > '9') {
          throw new MalformedRequestException("a field's length is not a number", false);
        }
        n = n * 10 + (body[i] - '0');
      }
      return n;
    }

    private String utf8(int from, int length) throws MalformedRequestException {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(body, from, length))
            .toString();
      } catch (CharacterCodingException e) {
        throw new MalformedRequestException("a value is not UTF-8", false);
      }
    }
  }
}
