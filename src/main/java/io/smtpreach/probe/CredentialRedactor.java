package io.smtpreach.probe;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes the credential out of text a server sent, before the probe reports any of it. A hostile or
 * careless server may echo what it was sent ({@code 535 bad password for alice}, the AUTH PLAIN
 * token), and the report goes to status, Events and logs that more people read than the Secret's
 * readers. Every occurrence of the username, the password, their base64 forms and the AUTH PLAIN
 * token is replaced by {@value #MARK}; the username and password in any letter case. Text is
 * redacted whole, before it is cut to an excerpt, so no prefix of a secret survives a cut.
 */
final class CredentialRedactor {
  static final String MARK = "[redacted]";

  /** For a probe without a credential: nothing to take out. */
  static final CredentialRedactor NONE = new CredentialRedactor(null);

  private final Pattern secrets;

  private CredentialRedactor(Pattern secrets) {
    this.secrets = secrets;
  }

  static CredentialRedactor of(Credentials credentials) {
    if (credentials == null) {
      return NONE;
    }
    String user = credentials.username();
    String password = credentials.password();
    Set<String> exact = new LinkedHashSet<>();
    for (String s : List.of(user, password, "\0" + user + "\0" + password)) {
      String encoded = base64(s);
      exact.add(encoded);
      exact.add(encoded.replace("=", "")); // echoed without its padding
    }
    List<String> alternatives = new ArrayList<>();
    // Longest first: a form that contains another is taken out whole.
    List<String> all = new ArrayList<>(exact);
    all.add(user);
    all.add(password);
    all.removeIf(String::isEmpty);
    all.sort(Comparator.comparingInt(String::length).reversed());
    for (String s : all) {
      boolean anyCase = s.equals(user) || s.equals(password);
      alternatives.add(anyCase ? "(?iu:" + Pattern.quote(s) + ")" : Pattern.quote(s));
    }
    return new CredentialRedactor(Pattern.compile(String.join("|", alternatives)));
  }

  /** {@code text} without the credential; null stays null. */
  String redact(String text) {
    if (secrets == null || text == null) {
      return text;
    }
    return secrets.matcher(text).replaceAll(Matcher.quoteReplacement(MARK));
  }

  /** A redacted, sanitized excerpt of server text for a message. */
  String excerpt(String text) {
    return Text.excerpt(redact(text));
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
