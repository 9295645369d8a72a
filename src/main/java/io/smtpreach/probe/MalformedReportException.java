package io.smtpreach.probe;

/** A result document that is not a valid smtp-reach report; the message says what is wrong. */
public class MalformedReportException extends Exception {
  public MalformedReportException(String message) {
    super(message);
  }

  public MalformedReportException(String message, Throwable cause) {
    super(message, cause);
  }
}
