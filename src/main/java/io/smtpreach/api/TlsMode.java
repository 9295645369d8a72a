package io.smtpreach.api;

/** How a port speaks TLS (see the probe engine's TLS modes). */
public enum TlsMode {
  None,
  StartTLS,
  Implicit,
  Auto
}
