package io.smtpreach.api;

/** What a team expects of a port. */
public enum Expectation {
  Reachable,
  Blocked,
  Any
}
