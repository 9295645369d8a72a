package io.smtpreach.api;

/** Which address family a probe uses; Each probes IPv4 and IPv6 separately. */
public enum IpFamily {
  Any,
  IPv4,
  IPv6,
  Each
}
