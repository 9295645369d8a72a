package io.smtpreach.probe;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Validates a server's chain after the handshake, so that each problem gets its own reason and the
 * certificate facts survive a failure. Checks run in the order an operator would fix them: dates,
 * then trust (system CAs plus an optional extra bundle), then the name.
 */
final class CertificateVerifier {
  /** Why a chain failed; empty when it is valid. */
  record Failure(Reason reason, String message) {}

  // The system trust store takes tens of milliseconds to parse: loaded only for a chain that the
  // extra bundle does not vouch for, and once per process, as the endpoints of a shared probe pod
  // would otherwise each parse it.
  private static X509TrustManager systemTrust;

  // Extra bundles by their PEM text, for the same reason: a pod's endpoints mount the same files.
  private static final Map<String, X509TrustManager> EXTRA_TRUST = new HashMap<>();

  private final List<X509TrustManager> extraTrust;

  private CertificateVerifier(List<X509TrustManager> extraTrust) {
    this.extraTrust = extraTrust;
  }

  /**
   * Every certificate of {@code caBundle} (a PEM file) and of {@code caPem} (PEM text) when given,
   * then system trust.
   */
  static CertificateVerifier load(Path caBundle, String caPem)
      throws IOException, GeneralSecurityException {
    List<X509TrustManager> managers = new ArrayList<>();
    if (caBundle != null) {
      // ISO-8859-1 maps every byte to one char: the text is the file, whatever its comments hold.
      String pem = new String(Files.readAllBytes(caBundle), StandardCharsets.ISO_8859_1);
      managers.add(extraTrust(pem, caBundle.toString()));
    }
    if (caPem != null) {
      managers.add(extraTrust(caPem, "the CA bundle text"));
    }
    return new CertificateVerifier(managers);
  }

  private static synchronized X509TrustManager extraTrust(String pem, String where)
      throws IOException, GeneralSecurityException {
    X509TrustManager tm = EXTRA_TRUST.get(pem);
    if (tm == null) {
      InputStream in = new ByteArrayInputStream(pem.getBytes(StandardCharsets.ISO_8859_1));
      tm = trustManager(extraCertificates(in, where));
      EXTRA_TRUST.put(pem, tm);
    }
    return tm;
  }

  private static KeyStore extraCertificates(InputStream in, String where)
      throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int i = 0;
    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
      store.setCertificateEntry("extra-" + i++, c);
    }
    if (i == 0) {
      throw new CertificateException("no certificate found in " + where);
    }
    return store;
  }

  Optional<Failure> verify(List<X509Certificate> chain, String expectedName, Instant now) {
    if (chain.isEmpty()) {
      return Optional.of(new Failure(Reason.CERT_UNTRUSTED, "the server sent no certificate"));
    }
    X509Certificate leaf = chain.get(0);
    for (X509Certificate cert : chain) {
      String who =
          cert == leaf ? "certificate" : "chain certificate " + cert.getSubjectX500Principal();
      try {
        cert.checkValidity(Date.from(now));
      } catch (CertificateExpiredException e) {
        return Optional.of(
            new Failure(
                Reason.CERT_EXPIRED, who + " expired on " + cert.getNotAfter().toInstant()));
      } catch (CertificateNotYetValidException e) {
        return Optional.of(
            new Failure(
                Reason.CERT_NOT_YET_VALID,
                who + " is not valid before " + cert.getNotBefore().toInstant()));
      }
    }
    X509Certificate[] array = chain.toArray(X509Certificate[]::new);
    CertificateException last = null;
    boolean trusted = false;
    for (X509TrustManager tm : extraTrust) {
      try {
        tm.checkServerTrusted(array, "UNKNOWN");
        trusted = true;
        break;
      } catch (CertificateException e) {
        last = e;
      }
    }
    if (!trusted) {
      try {
        systemTrust().checkServerTrusted(array, "UNKNOWN");
        trusted = true;
      } catch (CertificateException e) {
        last = e;
      } catch (GeneralSecurityException e) {
        last = new CertificateException("cannot load the system trust store", e);
      }
    }
    if (!trusted) {
      return Optional.of(
          new Failure(
              Reason.CERT_UNTRUSTED,
              "certificate issued by "
                  + leaf.getIssuerX500Principal().getName()
                  + " is not trusted"
                  + (last == null ? "" : ": " + Text.excerpt(rootCause(last)))));
    }
    if (!HostnameMatcher.matches(leaf, expectedName)) {
      return Optional.of(
          new Failure(
              Reason.CERT_HOSTNAME_MISMATCH,
              "certificate is for "
                  + String.join(", ", HostnameMatcher.subjectAltNames(leaf))
                  + (HostnameMatcher.subjectAltNames(leaf).isEmpty()
                      ? leaf.getSubjectX500Principal().getName()
                      : "")
                  + ", not "
                  + expectedName));
    }
    return Optional.empty();
  }

  private static synchronized X509TrustManager systemTrust() throws GeneralSecurityException {
    if (systemTrust == null) {
      systemTrust = trustManager(null);
    }
    return systemTrust;
  }

  private static X509TrustManager trustManager(KeyStore store) throws GeneralSecurityException {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    for (TrustManager tm : tmf.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        return x;
      }
    }
    throw new GeneralSecurityException("no X509TrustManager available");
  }

  private static String rootCause(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage();
  }
}
