package io.smtpreach.probe;

import java.util.List;

/**
 * One SMTP reply (RFC 5321 section 4.2): a three-digit code, an optional enhanced status code (RFC
 * 3463) and the text of each line.
 */
public record SmtpReply(int code, String enhancedCode, List<String> lines) {

  public SmtpReply {
    lines = List.copyOf(lines);
  }

  public boolean isPositive() {
    return code >= 200 && code < 300;
  }

  public boolean isTransientFailure() {
    return code >= 400 && code < 500;
  }

  /** The first line's text. */
  public String firstLine() {
    return lines.isEmpty() ? "" : lines.get(0);
  }

  /** The reply as a server would print its first line: {@code 554 5.7.1 go away}. */
  public String summary() {
    return code + (firstLine().isEmpty() ? "" : " " + firstLine());
  }
}
