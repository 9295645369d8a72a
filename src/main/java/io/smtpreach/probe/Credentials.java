package io.smtpreach.probe;

/**
 * An AUTH credential to check, and how reports name it. A username read from the environment is, in
 * a probe pod, the value of whatever Secret key the endpoint's author chose: reports then name
 * where it came from, never the value. The password never appears anywhere.
 *
 * @param source where the username came from, named in reports instead of it (in probe pods: {@code
 *     key username of Secret smtp-credentials}); null when the username itself may be shown
 */
public record Credentials(String username, String password, String source) {
  /** At most this much of a source is shown. */
  static final int MAX_SOURCE_CHARS = 200;

  public Credentials {
    if (username == null || username.isEmpty() || password == null) {
      throw new IllegalArgumentException("AUTH needs a username and a password");
    }
    if (source != null) {
      source = Text.sanitize(source, MAX_SOURCE_CHARS);
    }
  }

  /** A credential whose username may be shown: one a person typed. */
  public Credentials(String username, String password) {
    this(username, password, null);
  }

  /**
   * How a report says which credential AUTH used, after the word AUTH: {@code as alice}, or {@code
   * with the username from key username of Secret smtp-credentials}.
   */
  public String shownAs() {
    return source == null ? "as " + username : "with the username from " + source;
  }

  @Override
  public String toString() {
    return "Credentials[" + shownAs() + ", password=<redacted>]";
  }
}
