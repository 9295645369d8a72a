package io.smtpreach.probe;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Runs TLS handshakes that accept any chain while keeping it, so the caller can verify it
 * afterwards with precise reasons, and turns handshake failures into reasons using what the server
 * actually sent.
 */
final class TlsClient {
  private static final int ALERT_HANDSHAKE_FAILURE = 40;
  private static final int ALERT_PROTOCOL_VERSION = 70;
  private static final int ALERT_INSUFFICIENT_SECURITY = 71;

  private final ProbeOptions options;
  private final String[] protocols;

  // What this JVM's TLS supports: looked up once per process, not once per endpoint of a pod.
  private static Set<String> supportedProtocols;

  TlsClient(ProbeOptions options) {
    this.options = options;
    Set<String> supported = supportedProtocols();
    this.protocols =
        Arrays.stream(options.minTlsVersion().andNewer())
            .filter(supported::contains)
            .toArray(String[]::new);
  }

  private static synchronized Set<String> supportedProtocols() {
    if (supportedProtocols == null) {
      try {
        // Not SSLContext.getDefault(): that would load the system trust store, which only the
        // certificate check needs, and only when the server's chain is not in an extra CA bundle.
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new CapturingTrustManager()}, null);
        supportedProtocols = Set.of(ctx.getSupportedSSLParameters().getProtocols());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("no TLS support in this JVM", e);
      }
    }
    return supportedProtocols;
  }

  /** An established TLS session and the chain the server presented. */
  record Session(SSLSocket socket, List<X509Certificate> chain) {
    TlsFacts facts(Instant now) {
      SSLSession s = socket.getSession();
      CertificateFacts cert = chain.isEmpty() ? null : facts(chain.get(0));
      return new TlsFacts(s.getProtocol(), s.getCipherSuite(), cert);
    }

    private static CertificateFacts facts(X509Certificate c) {
      return new CertificateFacts(
          c.getSubjectX500Principal().getName(),
          c.getIssuerX500Principal().getName(),
          HostnameMatcher.subjectAltNames(c),
          c.getNotBefore().toInstant(),
          c.getNotAfter().toInstant());
    }
  }

  /** The name for SNI and certificate matching: the option, else the host probed. */
  String serverName(String host) {
    return options.serverName() != null ? options.serverName() : host;
  }

  /**
   * Layers TLS over a connected socket and completes the handshake within {@code timeoutMillis}.
   *
   * @param implicit true when the port should speak TLS from the first byte, so that a plaintext
   *     greeting is diagnosed as a mode mismatch
   */
  Session handshake(RecordingSocket raw, String host, int timeoutMillis, boolean implicit)
      throws ProbeFailure {
    CapturingTrustManager capture = new CapturingTrustManager();
    SSLSocket ssl;
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {capture}, null);
      String name = serverName(host);
      // Not auto-closing: after a failed handshake the raw socket may still hold a greeting to
      // read.
      ssl = (SSLSocket) ctx.getSocketFactory().createSocket(raw, name, raw.getPort(), false);
      SSLParameters params = ssl.getSSLParameters();
      params.setProtocols(protocols);
      if (!HostResolver.isAddressLiteral(name)) {
        params.setServerNames(List.of(new SNIHostName(name)));
      }
      ssl.setSSLParameters(params);
      raw.setSoTimeout(timeoutMillis);
      ssl.setSoTimeout(timeoutMillis);
    } catch (GeneralSecurityException | IOException | IllegalArgumentException e) {
      throw new ProbeFailure(Reason.PROBE_ERROR, "cannot set up TLS: " + e.getMessage());
    }
    raw.startRecording();
    try {
      ssl.startHandshake();
    } catch (IOException e) {
      throw classify(e, receivedLine(raw), implicit, timeoutMillis);
    }
    return new Session(ssl, capture.chain);
  }

  /**
   * What the server sent during the failed handshake; when it looks like a plaintext reply, the
   * rest of that line too (JSSE stops after a 5-byte record header), read briefly and within
   * bounds.
   */
  private static byte[] receivedLine(RecordingSocket raw) {
    byte[] seen = raw.recorded();
    if (seen.length == 0 || seen[0] < '0' || seen[0] > '9' || raw.isClosed()) {
      return seen;
    }
    try {
      raw.setSoTimeout(200);
      InputStream in = raw.getInputStream();
      for (int i = seen.length; i < RecordingSocket.RECORD_LIMIT; i++) {
        int b = in.read();
        if (b < 0 || b == '\n') {
          break;
        }
      }
    } catch (IOException e) {
      // Keep what we have.
    }
    return raw.recorded();
  }

  /**
   * The bytes of a TLS ClientHello for {@code host}, to ask a silent port whether it speaks TLS.
   */
  byte[] clientHello(String host, int port) throws GeneralSecurityException, SSLException {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new CapturingTrustManager()}, null);
    SSLEngine engine = ctx.createSSLEngine(serverName(host), port);
    engine.setUseClientMode(true);
    java.nio.ByteBuffer out =
        java.nio.ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(java.nio.ByteBuffer.allocate(0), out);
    return Arrays.copyOf(out.array(), out.position());
  }

  /** True when {@code first} starts like a TLS record (handshake or alert) from a server. */
  static boolean looksLikeTls(byte[] first, int length) {
    return length >= 2 && (first[0] == 0x16 || first[0] == 0x15) && first[1] == 0x03;
  }

  private ProbeFailure classify(
      IOException e, byte[] received, boolean implicit, int timeoutMillis) {
    if (received.length > 0 && received[0] >= '0' && received[0] <= '9') {
      String text = SmtpReplyReader.bytesExcerpt(received, received.length);
      return implicit
          ? new ProbeFailure(
              Reason.PLAINTEXT_ON_TLS_PORT,
              "port speaks plaintext SMTP, not implicit TLS (greeted with '"
                  + text
                  + "'): use STARTTLS")
          : new ProbeFailure(
              Reason.TLS_HANDSHAKE_FAILED, "server answered the TLS handshake with '" + text + "'");
    }
    if (received.length >= 7 && received[0] == 0x15 && received[1] == 0x03) {
      int description = received[6] & 0xff;
      return switch (description) {
        case ALERT_PROTOCOL_VERSION ->
            new ProbeFailure(
                Reason.TLS_VERSION_MISMATCH,
                "server accepts none of the TLS versions we offer ("
                    + offeredProtocols()
                    + "): alert protocol_version");
        case ALERT_HANDSHAKE_FAILURE, ALERT_INSUFFICIENT_SECURITY ->
            new ProbeFailure(
                Reason.TLS_HANDSHAKE_FAILED,
                "TLS handshake failed: no cipher suite or parameters in common (alert "
                    + description
                    + ")");
        default ->
            new ProbeFailure(
                Reason.TLS_HANDSHAKE_FAILED,
                "TLS handshake failed: server sent alert " + description);
      };
    }
    if (e instanceof SocketTimeoutException) {
      return implicit
          ? new ProbeFailure(
              Reason.NO_GREETING,
              "connected, but no answer to the TLS ClientHello within " + timeoutMillis + " ms")
          : new ProbeFailure(
              Reason.READ_TIMEOUT, "no TLS handshake answer within " + timeoutMillis + " ms");
    }
    String message = String.valueOf(e.getMessage());
    if (e instanceof SocketException && message.contains("reset")) {
      return new ProbeFailure(Reason.CONNECTION_RESET, "connection reset during the TLS handshake");
    }
    if (message.contains("protocol version") || message.contains("No appropriate protocol")) {
      return new ProbeFailure(
          Reason.TLS_VERSION_MISMATCH,
          "no TLS version in common (we offer "
              + offeredProtocols()
              + "): "
              + Text.excerpt(message));
    }
    if (message.contains("terminated the handshake") || e instanceof java.io.EOFException) {
      return new ProbeFailure(
          Reason.TLS_HANDSHAKE_FAILED, "server closed the connection during the TLS handshake");
    }
    return new ProbeFailure(
        Reason.TLS_HANDSHAKE_FAILED, "TLS handshake failed: " + Text.excerpt(message));
  }

  /** Accepts every chain and keeps it: verification happens afterwards, with reasons. */
  private static final class CapturingTrustManager extends X509ExtendedTrustManager {
    private volatile List<X509Certificate> chain = List.of();

    private void keep(X509Certificate[] presented) {
      chain = presented == null ? List.of() : List.of(presented);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] c, String authType, Socket socket) {
      keep(c);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] c, String authType, SSLEngine engine) {
      keep(c);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] c, String authType) {
      keep(c);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] c, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] c, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] c, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /** The protocol names offered, for messages. */
  String offeredProtocols() {
    return Arrays.stream(protocols).collect(Collectors.joining(", "));
  }
}
