package io.smtpreach.probe;

import java.util.List;

/**
 * A minimal compact JSON writer: the probe path writes one small document and must not pay for a
 * JSON library's start-up. Commas are inserted automatically.
 */
final class JsonWriter {
  private final StringBuilder out = new StringBuilder(1024);
  private boolean needComma;

  JsonWriter beginObject() {
    comma();
    out.append('{');
    needComma = false;
    return this;
  }

  JsonWriter endObject() {
    out.append('}');
    needComma = true;
    return this;
  }

  JsonWriter beginArray() {
    comma();
    out.append('[');
    needComma = false;
    return this;
  }

  JsonWriter endArray() {
    out.append(']');
    needComma = true;
    return this;
  }

  JsonWriter name(String name) {
    comma();
    string(name);
    out.append(':');
    needComma = false;
    return this;
  }

  JsonWriter value(String value) {
    comma();
    if (value == null) {
      out.append("null");
    } else {
      string(value);
    }
    needComma = true;
    return this;
  }

  JsonWriter value(long value) {
    comma();
    out.append(value);
    needComma = true;
    return this;
  }

  JsonWriter value(boolean value) {
    comma();
    out.append(value);
    needComma = true;
    return this;
  }

  /** Writes {@code "name":value} unless the value is null. */
  JsonWriter field(String name, String value) {
    return value == null ? this : name(name).value(value);
  }

  JsonWriter field(String name, long value) {
    return name(name).value(value);
  }

  /** Writes {@code "name":[...]} unless the list is empty. */
  JsonWriter field(String name, List<String> values) {
    if (values == null || values.isEmpty()) {
      return this;
    }
    name(name).beginArray();
    values.forEach(this::value);
    return endArray();
  }

  private void comma() {
    if (needComma) {
      out.append(',');
    }
  }

  private void string(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
