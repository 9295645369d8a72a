package io.smtpreach.probe;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** TLS protocol versions, oldest first, with their JSSE names. */
public enum TlsVersion {
  TLS_1_0("TLSv1"),
  TLS_1_1("TLSv1.1"),
  TLS_1_2("TLSv1.2"),
  TLS_1_3("TLSv1.3");

  private final String jsseName;

  TlsVersion(String jsseName) {
    this.jsseName = jsseName;
  }

  public String jsseName() {
    return jsseName;
  }

  /** The JSSE protocol names of this version and every newer one. */
  public String[] andNewer() {
    List<TlsVersion> all = Arrays.asList(values());
    return all.subList(ordinal(), all.size()).stream()
        .map(TlsVersion::jsseName)
        .toArray(String[]::new);
  }

  /** Parses {@code 1.2}, {@code TLSv1.2}, {@code tls1.2}. */
  public static TlsVersion parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace("tlsv", "").replace("tls", "");
    return switch (t) {
      case "1", "1.0" -> TLS_1_0;
      case "1.1" -> TLS_1_1;
      case "1.2" -> TLS_1_2;
      case "1.3" -> TLS_1_3;
      default ->
          throw new IllegalArgumentException(
              "unknown TLS version '" + text + "' (expected 1.0, 1.1, 1.2 or 1.3)");
    };
  }
}
