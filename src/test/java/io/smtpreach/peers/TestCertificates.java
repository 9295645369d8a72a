package io.smtpreach.peers;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway CA that issues server certificates with any names and validity, for TLS faults. */
public final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate, its key, and the CA that signed it. */
  public record Issued(X509Certificate certificate, KeyPair keys, X509Certificate ca) {
    /** A server-side TLS context presenting this certificate (and the CA as its chain). */
    public SSLContext serverContext() {
      try {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(
            "server",
            keys.getPrivate(),
            new char[0],
            new java.security.cert.Certificate[] {certificate, ca});
        KeyManagerFactory kmf =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, new char[0]);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private final KeyPair caKeys;
  private final X509Certificate ca;

  private TestCertificates(KeyPair caKeys, X509Certificate ca) {
    this.caKeys = caKeys;
    this.ca = ca;
  }

  public static TestCertificates newCa(String name) {
    KeyPair keys = keyPair();
    Instant now = Instant.now();
    X509Certificate cert =
        sign(
            new X500Name("CN=" + name),
            new X500Name("CN=" + name),
            keys,
            keys,
            now.minus(Duration.ofDays(1)),
            now.plus(Duration.ofDays(365)),
            List.of(),
            true);
    return new TestCertificates(keys, cert);
  }

  public X509Certificate ca() {
    return ca;
  }

  /**
   * A server certificate for {@code names} (DNS names or IP addresses) valid in [notBefore,
   * notAfter].
   */
  public Issued issue(String commonName, List<String> names, Instant notBefore, Instant notAfter) {
    KeyPair keys = keyPair();
    X509Certificate cert =
        sign(
            new X500Name(ca.getSubjectX500Principal().getName()),
            new X500Name("CN=" + commonName),
            keys,
            caKeys,
            notBefore,
            notAfter,
            names,
            false);
    return new Issued(cert, keys, ca);
  }

  /** Valid from yesterday for {@code days} days. */
  public Issued issue(String commonName, List<String> names, int days) {
    Instant now = Instant.now();
    return issue(commonName, names, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(days)));
  }

  public void writeCaPem(Path file) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(ca);
    }
    Files.writeString(file, out.toString());
  }

  private static KeyPair keyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static X509Certificate sign(
      X500Name issuer,
      X500Name subject,
      KeyPair subjectKeys,
      KeyPair issuerKeys,
      Instant notBefore,
      Instant notAfter,
      List<String> names,
      boolean isCa) {
    try {
      JcaX509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              issuer,
              BigInteger.valueOf(SERIAL.incrementAndGet()),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              subjectKeys.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
      if (!isCa) {
        b.addExtension(
            Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      }
      if (!names.isEmpty()) {
        GeneralName[] sans =
            names.stream()
                .map(
                    n ->
                        Character.isDigit(n.charAt(0)) || n.contains(":")
                            ? new GeneralName(GeneralName.iPAddress, n)
                            : new GeneralName(GeneralName.dNSName, n))
                .toArray(GeneralName[]::new);
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(
              b.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException("cannot issue test certificate", e);
    }
  }
}
