package io.smtpreach.probe;

/** A reply line or a whole reply went past its bound: a broken or hostile server. */
public class ReplyTooLongException extends MalformedReplyException {
  public ReplyTooLongException(String message, String excerpt) {
    super(message, excerpt);
  }
}
