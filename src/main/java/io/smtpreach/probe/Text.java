package io.smtpreach.probe;

/**
 * Makes text that came from a server safe to show: no control characters (no terminal escapes, no
 * line breaks into logs or Events) and a bounded length.
 */
public final class Text {
  public static final int EXCERPT_CHARS = 160;

  private Text() {}

  public static String excerpt(String raw) {
    return sanitize(raw, EXCERPT_CHARS);
  }

  public static String sanitize(String raw, int maxChars) {
    if (raw == null) {
      return null;
    }
    StringBuilder out = new StringBuilder(Math.min(raw.length(), maxChars + 1));
    for (int i = 0; i < raw.length() && out.length() < maxChars; i++) {
      char c = raw.charAt(i);
      if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
        out.append(c == '\t' ? ' ' : '\uFFFD');
      } else {
        out.append(c);
      }
    }
    if (raw.length() > out.length()) {
      out.append('…');
    }
    return out.toString().strip();
  }
}
