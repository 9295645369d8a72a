package io.smtpreach.probe;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Checks a certificate against the name we connected to (RFC 6125): DNS names with a wildcard in
 * the leftmost label only, IP addresses against IP SANs; the subject CN only when there is no DNS
 * SAN.
 */
final class HostnameMatcher {
  private static final int SAN_DNS = 2;
  private static final int SAN_IP = 7;

  private HostnameMatcher() {}

  static boolean matches(X509Certificate cert, String name) {
    String host = name.toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    if (HostResolver.isAddressLiteral(host)) {
      return ipSans(cert).stream().anyMatch(ip -> sameAddress(ip, name));
    }
    List<String> dns = dnsSans(cert);
    if (dns.isEmpty()) {
      String cn = commonName(cert);
      return cn != null && matchesPattern(cn.toLowerCase(Locale.ROOT), host);
    }
    String h = host;
    return dns.stream().anyMatch(pattern -> matchesPattern(pattern.toLowerCase(Locale.ROOT), h));
  }

  /** All SANs as {@code DNS:name} / {@code IP:address}, for the report. */
  static List<String> subjectAltNames(X509Certificate cert) {
    List<String> out = new ArrayList<>();
    dnsSans(cert).forEach(d -> out.add("DNS:" + d));
    ipSans(cert).forEach(i -> out.add("IP:" + i));
    return out;
  }

  static boolean matchesPattern(String pattern, String host) {
    if (!pattern.startsWith("*.")) {
      return pattern.equals(host);
    }
    int dot = host.indexOf('.');
    // "*.example.com" matches exactly one label, never "example.com" itself or "a.b.example.com".
    return dot > 0
        && host.substring(dot).equals(pattern.substring(1))
        && pattern.indexOf('.', 2) > 0;
  }

  private static List<String> dnsSans(X509Certificate cert) {
    return sans(cert, SAN_DNS);
  }

  private static List<String> ipSans(X509Certificate cert) {
    return sans(cert, SAN_IP);
  }

  private static List<String> sans(X509Certificate cert, int type) {
    List<String> out = new ArrayList<>();
    try {
      Collection<List<?>> all = cert.getSubjectAlternativeNames();
      if (all != null) {
        for (List<?> san : all) {
          if (san.size() >= 2
              && Integer.valueOf(type).equals(san.get(0))
              && san.get(1) instanceof String s) {
            out.add(s);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // A certificate whose SANs cannot be parsed has no name we can match.
    }
    return out;
  }

  private static boolean sameAddress(String a, String b) {
    try {
      return InetAddress.getByName(a).equals(InetAddress.getByName(stripBrackets(b)));
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static String stripBrackets(String s) {
    return s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
  }

  private static String commonName(X509Certificate cert) {
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }
}
