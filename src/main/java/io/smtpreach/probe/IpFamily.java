package io.smtpreach.probe;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;

/** Which address family to probe over; {@link #EACH} probes IPv4 and IPv6 separately. */
public enum IpFamily {
  ANY,
  V4,
  V6,
  EACH;

  public boolean accepts(InetAddress address) {
    return switch (this) {
      case ANY, EACH -> true;
      case V4 -> address instanceof Inet4Address;
      case V6 -> address instanceof Inet6Address;
    };
  }

  /** As the SmtpEndpoint API spells it: Any, IPv4, IPv6, Each. */
  public String displayName() {
    return switch (this) {
      case ANY -> "Any";
      case V4 -> "IPv4";
      case V6 -> "IPv6";
      case EACH -> "Each";
    };
  }

  /** The families one target is probed over: both for {@link #EACH}, else just this one. */
  public List<IpFamily> expand() {
    return this == EACH ? List.of(V4, V6) : List.of(this);
  }

  public static IpFamily parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "any" -> ANY;
      case "4", "v4", "ipv4" -> V4;
      case "6", "v6", "ipv6" -> V6;
      case "each", "both" -> EACH;
      default ->
          throw new IllegalArgumentException(
              "unknown IP family '" + text + "' (expected any, v4, v6 or each)");
    };
  }
}
