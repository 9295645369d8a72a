package io.smtpreach.probe;

import java.io.IOException;

/**
 * What the server sent is not an SMTP reply; the start of it is kept, sanitized, for the report.
 */
public class MalformedReplyException extends IOException {
  private final String excerpt;

  public MalformedReplyException(String message, String excerpt) {
    super(message);
    this.excerpt = excerpt;
  }

  public String excerpt() {
    return excerpt;
  }
}
