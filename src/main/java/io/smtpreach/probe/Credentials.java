package io.smtpreach.probe;

/** An AUTH credential to check. Its password never appears in {@link #toString()}. */
public record Credentials(String username, String password) {

  public Credentials {
    if (username == null || username.isEmpty() || password == null) {
      throw new IllegalArgumentException("AUTH needs a username and a password");
    }
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", password=<redacted>]";
  }
}
