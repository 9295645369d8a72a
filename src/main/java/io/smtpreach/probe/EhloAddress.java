package io.smtpreach.probe;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client address a server echoes in the first line of its EHLO reply, as Exim, Sendmail and
 * Gmail do ({@code smtp.example.com Hello name [203.0.113.5]}, {@code mx.google.com at your
 * service, [203.0.113.5]}, {@code [IPv6:2001:db8::1]}): the address the world sees, past any NAT.
 * The line is a server's text, so it is read strictly: exactly one bracketed address literal, IPv4
 * as four decimal octets, IPv6 only as hexadecimal groups (no zone, no name). Anything else (no
 * literal, two of them, a malformed one) is unknown: never a guess.
 */
final class EhloAddress {
  private static final Pattern BRACKETED = Pattern.compile("\\[([^\\[\\]]{0,64})\\]");
  private static final Pattern IPV4 =
      Pattern.compile(
          "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  private EhloAddress() {}

  /** The address echoed in {@code firstLine} (the reply's first line, code stripped), if any. */
  static Optional<InetAddress> parse(String firstLine) {
    if (firstLine == null || firstLine.indexOf('[') < 0) {
      return Optional.empty();
    }
    Matcher m = BRACKETED.matcher(firstLine);
    InetAddress found = null;
    int literals = 0;
    while (m.find()) {
      literals++;
      if (literals > 1) {
        return Optional.empty(); // which one would it be? unknown
      }
      found = literal(m.group(1));
    }
    // An opening bracket that no well-formed literal closes is malformed, not absent.
    long opened = firstLine.chars().filter(c -> c == '[').count();
    long closed = firstLine.chars().filter(c -> c == ']').count();
    return opened == literals && closed == literals ? Optional.ofNullable(found) : Optional.empty();
  }

  private static InetAddress literal(String text) {
    String v6 = text.regionMatches(true, 0, "IPv6:", 0, 5) ? text.substring(5) : null;
    try {
      if (v6 == null && IPV4.matcher(text).matches()) {
        return InetAddress.getByName(text); // a dotted quad: parsed, never resolved
      }
      String candidate = v6 != null ? v6 : text;
      if (candidate.indexOf(':') >= 0 && IPV6.matcher(candidate).matches()) {
        // A colon makes InetAddress parse a literal; it never asks DNS about one.
        return InetAddress.getByName(candidate);
      }
    } catch (UnknownHostException e) {
      return null;
    }
    return null;
  }
}
