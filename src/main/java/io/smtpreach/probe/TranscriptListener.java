package io.smtpreach.probe;

/**
 * Hears each port's SMTP dialogue line by line, as it happens: what {@code smtp-reach probe -v}
 * prints. The engine only tells; where the lines go is the caller's business.
 *
 * <p>Ports are probed at once, so lines come from several threads, each port's in order. A line's
 * text is what went over the wire with the credential taken out (the AUTH PLAIN token and the AUTH
 * LOGIN answers become {@code [redacted]}, as anything a server echoes does) and control characters
 * replaced, so a listener may print it as it is.
 */
@FunctionalInterface
public interface TranscriptListener {
  /** For a probe nobody listens to. */
  TranscriptListener NONE = line -> {};

  void line(Line line);

  /** What a line is: a command sent, a reply line received, or the probe's own note. */
  enum Kind {
    SENT,
    RECEIVED,
    NOTE
  }

  /**
   * One line of one port's dialogue.
   *
   * @param host the host probed (an MX host in MX mode)
   * @param encrypted true once TLS is up: the line travelled inside it
   */
  record Line(
      String host,
      ProbeTarget target,
      IpFamily family,
      Kind kind,
      boolean encrypted,
      String text) {}
}
