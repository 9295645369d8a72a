package io.smtpreach.probe;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One SMTP dialogue with one port: connect, greeting, EHLO, STARTTLS or implicit TLS, EHLO again,
 * the optional AUTH check, QUIT. It never sends MAIL FROM. Every read is bounded by the read
 * timeout and by the target's overall deadline, and when the deadline passes its sockets are closed
 * ({@link DeadlineWatchdog}), so that the dialogue ends by then whatever the server does; every
 * failure ends with a precise reason.
 */
final class PortProbe {
  private enum Step {
    GREETING("greeting"),
    EHLO("EHLO"),
    STARTTLS("STARTTLS"),
    AUTH("AUTH"),
    QUIT("QUIT");

    final String label;

    Step(String label) {
      this.label = label;
    }
  }

  private final String host;

  /** The server-to-server port, where a credential check means nothing. */
  static final int RELAY_PORT = 25;

  private final ProbeTarget target;
  private final InetAddress address;
  private final ProbeOptions options;
  private final TlsClient tls;
  private final Supplier<CertificateVerifier> verifier;
  private final ProbeResult.Builder result;
  private final Deadline deadline;
  private final CredentialRedactor redactor;
  private final TranscriptListener transcript;
  private final long startNanos = System.nanoTime();
  private final List<String> notes = new ArrayList<>();

  private DeadlineWatchdog.Watch watch;
  private RecordingSocket raw;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private SmtpReplyReader reader;
  private Optional<CertificateVerifier.Failure> certificateFailure = Optional.empty();

  /** Why the certificate failed verification when --insecure accepted it anyway. */
  private Optional<CertificateVerifier.Failure> acceptedUnverified = Optional.empty();

  /** Set only by a verification that passed: nothing else lets a credential be sent. */
  private boolean certificateVerified;

  /** True once TLS is up on the current connection, for the transcript. */
  private boolean encrypted;

  private TlsMode negotiated = TlsMode.NONE;
  private List<String> offeredAuth = List.of();

  PortProbe(
      String host,
      InetAddress address,
      ProbeOptions options,
      TlsClient tls,
      Supplier<CertificateVerifier> verifier,
      ProbeResult.Builder result,
      Deadline deadline,
      TranscriptListener transcript) {
    this.host = host;
    this.target = result.target();
    this.address = address;
    this.options = options;
    this.tls = tls;
    this.verifier = verifier;
    this.result = result;
    this.deadline = deadline;
    this.redactor = CredentialRedactor.of(options.credentials());
    this.transcript = transcript;
  }

  ProbeResult run() {
    result.address(address.getHostAddress());
    watch = DeadlineWatchdog.arm(deadline);
    try {
      if (target.mode() == TlsMode.IMPLICIT) {
        implicitTls();
      } else {
        plaintextFirst();
      }
      if (certificateFailure.isPresent()) {
        var f = certificateFailure.get();
        return finish(f.reason(), f.message());
      }
      return finish(Reason.OK, okMessage());
    } catch (ProbeFailure f) {
      return finish(f.reason(), f.getMessage());
    } catch (RuntimeException e) {
      return finish(Reason.PROBE_ERROR, "probe failed: " + e);
    } finally {
      close();
      watch.close();
    }
  }

  private ProbeResult finish(Reason reason, String message) {
    // The total includes the host's DNS lookup, done once before the ports were probed.
    Duration dialogue = Duration.ofNanos(System.nanoTime() - startNanos);
    result.timing(Phase.TOTAL, dialogue.plus(result.timing(Phase.DNS)));
    return result.build(reason, message);
  }

  private String okMessage() {
    String base =
        switch (negotiated) {
          case IMPLICIT -> "implicit TLS";
          case STARTTLS -> "STARTTLS";
          default -> "plaintext" + (target.mode() == TlsMode.AUTO ? " (no STARTTLS offered)" : "");
        };
    return notes.isEmpty() ? base : base + "; " + String.join("; ", notes);
  }

  // ---- dialogues ----

  private void plaintextFirst() throws ProbeFailure {
    connect();
    long connected = System.nanoTime();
    if (silentAndSpeaksTls()) {
      if (target.mode() == TlsMode.AUTO) {
        close();
        implicitTls();
        return;
      }
      throw new ProbeFailure(
          Reason.TLS_ON_PLAINTEXT_PORT,
          "port speaks implicit TLS (no greeting; it answered a TLS ClientHello): use mode implicit");
    }
    Duration waited = Duration.ofNanos(System.nanoTime() - connected);
    Duration left = options.readTimeout().minus(waited);
    SmtpReply greeting = read(Step.GREETING, left.isNegative() ? Duration.ofMillis(1) : left);
    result.timing(Phase.GREETING, Duration.ofNanos(System.nanoTime() - connected));
    acceptGreeting(greeting);
    List<String> caps = ehlo(false);
    result.capabilities(caps);
    result.authMechanisms(authMechanisms(caps));
    result.negotiated(TlsMode.NONE);
    if (target.mode() == TlsMode.NONE) {
      authenticate(false);
      quit();
      return;
    }
    if (caps.stream().noneMatch(c -> keyword(c).equals("STARTTLS"))) {
      if (target.mode() == TlsMode.AUTO) {
        authenticate(false);
        quit();
        return;
      }
      quit();
      throw new ProbeFailure(
          Reason.STARTTLS_NOT_OFFERED,
          "STARTTLS not offered after EHLO: mail and credentials would travel in clear (possible"
              + " STARTTLS stripping)");
    }
    long t = System.nanoTime();
    SmtpReply reply = command("STARTTLS", Step.STARTTLS);
    result.timing(Phase.STARTTLS, Duration.ofNanos(System.nanoTime() - t));
    if (reply.code() != 220) {
      quit();
      throw new ProbeFailure(
          Reason.STARTTLS_REFUSED, "server refused STARTTLS: " + Text.excerpt(reply.summary()));
    }
    if (pendingInput() > 0) {
      throw new ProbeFailure(
          Reason.UNEXPECTED_REPLY,
          "server sent data after its STARTTLS reply, before TLS (possible command injection)");
    }
    startTls(false);
    negotiated = TlsMode.STARTTLS;
    result.negotiated(TlsMode.STARTTLS);
    List<String> tlsCaps = ehlo(true);
    result.tlsCapabilities(tlsCaps);
    result.authMechanisms(authMechanisms(tlsCaps));
    authenticate(true);
    quit();
  }

  private void implicitTls() throws ProbeFailure {
    connect();
    startTls(true);
    negotiated = TlsMode.IMPLICIT;
    result.negotiated(TlsMode.IMPLICIT);
    long t = System.nanoTime();
    SmtpReply greeting = read(Step.GREETING, options.readTimeout());
    result.timing(Phase.GREETING, Duration.ofNanos(System.nanoTime() - t));
    acceptGreeting(greeting);
    List<String> caps = ehlo(true);
    result.tlsCapabilities(caps);
    result.authMechanisms(authMechanisms(caps));
    authenticate(true);
    quit();
  }

  // ---- steps ----

  private void connect() throws ProbeFailure {
    int timeout = deadline.boundMillis(options.connectTimeout());
    RecordingSocket s = new RecordingSocket();
    watch.watch(s);
    encrypted = false;
    tell(
        TranscriptListener.Kind.NOTE,
        "connecting to " + address.getHostAddress() + " port " + target.port());
    long t = System.nanoTime();
    try {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(address, target.port()), timeout);
      result.timing(Phase.CONNECT, Duration.ofNanos(System.nanoTime() - t));
      result.localAddress(s.getLocalAddress().getHostAddress());
      raw = s;
      socket = s;
      in = new BufferedInputStream(s.getInputStream(), 4096);
      out = s.getOutputStream();
      reader = replyReader();
      tell(TranscriptListener.Kind.NOTE, "connected");
    } catch (IOException e) {
      closeQuietly(s);
      ProbeFailure failure = connectFailure(e, Duration.ofMillis(timeout));
      tell(TranscriptListener.Kind.NOTE, failure.getMessage());
      throw failure;
    }
  }

  private ProbeFailure connectFailure(IOException e, Duration timeout) {
    String where = address.getHostAddress() + " port " + target.port();
    String msg = String.valueOf(e.getMessage());
    // The watchdog closing the socket mid-connect is the connect's own timeout, one instant late.
    if (e instanceof SocketTimeoutException || watch.expired()) {
      return new ProbeFailure(
          Reason.CONNECT_TIMEOUT,
          "connect to "
              + where
              + " timed out after "
              + Durations.format(timeout)
              + " (packets silently dropped: blocked)");
    }
    if (e instanceof NoRouteToHostException || msg.contains("No route to host")) {
      return new ProbeFailure(
          Reason.HOST_UNREACHABLE, "no route to " + where + " (host unreachable)");
    }
    if (msg.contains("Network is unreachable") || msg.contains("Network unreachable")) {
      return new ProbeFailure(Reason.NETWORK_UNREACHABLE, "network unreachable for " + where);
    }
    if (e instanceof ConnectException && msg.contains("refused")) {
      return new ProbeFailure(
          Reason.CONNECTION_REFUSED,
          "connection to " + where + " refused (TCP RST or ICMP port unreachable)");
    }
    if (e instanceof SocketException && msg.contains("reset")) {
      return new ProbeFailure(Reason.CONNECTION_RESET, "connection to " + where + " reset");
    }
    if (msg.contains("Operation not permitted") || msg.contains("Permission denied")) {
      return new ProbeFailure(
          Reason.NETWORK_UNREACHABLE,
          "connect to " + where + " denied locally: " + Text.excerpt(msg));
    }
    return new ProbeFailure(
        Reason.HOST_UNREACHABLE, "connect to " + where + " failed: " + Text.excerpt(msg));
  }

  /**
   * Waits briefly for a greeting; if the port stays silent, asks it over a second connection
   * whether it is waiting for a TLS ClientHello. A slow plaintext server is not disturbed: the
   * first connection keeps waiting, and what it receives meanwhile stays buffered.
   */
  private boolean silentAndSpeaksTls() throws ProbeFailure {
    try {
      socket.setSoTimeout(deadline.boundMillis(options.tlsSniffDelay()));
      in.mark(1);
      in.read();
      in.reset();
      return false;
    } catch (SocketTimeoutException e) {
      tell(
          TranscriptListener.Kind.NOTE,
          "no greeting within "
              + Durations.format(options.tlsSniffDelay())
              + ": asking a second connection whether the port speaks implicit TLS");
      boolean speaksTls = sniffTls();
      tell(
          TranscriptListener.Kind.NOTE,
          speaksTls
              ? "it answered a TLS ClientHello"
              : "it did not answer a TLS ClientHello: still waiting for a greeting");
      return speaksTls;
    } catch (IOException e) {
      return false; // the greeting read reports the failure precisely
    }
  }

  private boolean sniffTls() {
    try (Socket probe = new Socket()) {
      watch.watch(probe);
      probe.connect(
          new InetSocketAddress(address, target.port()),
          deadline.boundMillis(options.connectTimeout()));
      probe.getOutputStream().write(tls.clientHello(host, target.port()));
      probe.getOutputStream().flush();
      probe.setSoTimeout(deadline.boundMillis(Duration.ofSeconds(2)));
      byte[] first = new byte[2];
      int n = probe.getInputStream().readNBytes(first, 0, 2);
      return TlsClient.looksLikeTls(first, n);
    } catch (IOException | GeneralSecurityException e) {
      return false;
    }
  }

  private void acceptGreeting(SmtpReply greeting) throws ProbeFailure {
    result.greeting(Text.excerpt(greeting.summary()));
    if (greeting.code() == 220) {
      return;
    }
    if (greeting.code() >= 400) {
      throw new ProbeFailure(
          Reason.GREETING_REJECTED,
          "server rejected the session: " + Text.excerpt(greeting.summary()));
    }
    throw new ProbeFailure(
        Reason.UNEXPECTED_REPLY, "unexpected greeting: " + Text.excerpt(greeting.summary()));
  }

  private List<String> ehlo(boolean afterTls) throws ProbeFailure {
    long t = System.nanoTime();
    SmtpReply reply = command("EHLO " + options.ehloName(), Step.EHLO);
    if (!afterTls) {
      result.timing(Phase.EHLO, Duration.ofNanos(System.nanoTime() - t));
    }
    if (!reply.isPositive()) {
      throw new ProbeFailure(
          Reason.EHLO_REJECTED, "server rejected EHLO: " + Text.excerpt(reply.summary()));
    }
    EhloAddress.parse(reply.firstLine()).ifPresent(a -> result.seenAddress(a.getHostAddress()));
    List<String> caps = new ArrayList<>();
    for (String line : reply.lines().subList(1, reply.lines().size())) {
      caps.add(Text.sanitize(line, 200));
    }
    return caps;
  }

  private void startTls(boolean implicit) throws ProbeFailure {
    long t = System.nanoTime();
    TlsClient.Session session;
    try {
      session = tls.handshake(raw, host, deadline.boundMillis(options.readTimeout()), implicit);
    } catch (ProbeFailure f) {
      if (watch.expired() || deadline.remaining().isZero()) {
        throw raw.recorded().length == 0 && implicit
            ? new ProbeFailure(
                Reason.NO_GREETING,
                "connected, but no answer to the TLS ClientHello by the "
                    + Durations.format(options.timeout())
                    + " deadline")
            : new ProbeFailure(
                Reason.READ_TIMEOUT,
                "TLS handshake not complete by the "
                    + Durations.format(options.timeout())
                    + " deadline (the server sends it too slowly)");
      }
      // What the server sent instead of a handshake may be part of the message.
      throw new ProbeFailure(f.reason(), redactor.redact(f.getMessage()));
    }
    result.timing(Phase.TLS_HANDSHAKE, Duration.ofNanos(System.nanoTime() - t));
    socket = session.socket();
    try {
      in = new BufferedInputStream(socket.getInputStream(), 4096);
      out = socket.getOutputStream();
    } catch (IOException e) {
      throw new ProbeFailure(Reason.CONNECTION_CLOSED, "connection lost after TLS handshake");
    }
    encrypted = true;
    reader = replyReader();
    Instant now = Instant.now();
    TlsFacts facts = redacted(session.facts(now));
    result.tls(facts);
    tell(
        TranscriptListener.Kind.NOTE,
        "TLS started: "
            + facts.protocol()
            + ", "
            + facts.cipherSuite()
            + (facts.certificate() == null
                ? ""
                : ", certificate " + Text.excerpt(facts.certificate().subject())));
    // --insecure accepts any certificate for reachability, but a credential goes only to one that
    // verified: with one to send, the certificate is checked all the same.
    if (options.insecure() && options.credentials() == null) {
      return;
    }
    Optional<CertificateVerifier.Failure> failure =
        verifier
            .get()
            .verify(session.chain(), tls.serverName(host), now)
            .map(f -> new CertificateVerifier.Failure(f.reason(), redactor.redact(f.message())));
    certificateVerified = failure.isEmpty();
    if (options.insecure()) {
      acceptedUnverified = failure;
    } else {
      certificateFailure = failure;
    }
  }

  /** The certificate's names are the server's text too. */
  private TlsFacts redacted(TlsFacts facts) {
    CertificateFacts c = facts.certificate();
    if (redactor == CredentialRedactor.NONE || c == null) {
      return facts;
    }
    return new TlsFacts(
        facts.protocol(),
        facts.cipherSuite(),
        new CertificateFacts(
            redactor.redact(c.subject()),
            redactor.redact(c.issuer()),
            c.subjectAltNames().stream().map(redactor::redact).toList(),
            c.notBefore(),
            c.notAfter()));
  }

  private void authenticate(boolean encrypted) throws ProbeFailure {
    Credentials credentials = options.credentials();
    if (credentials == null) {
      return;
    }
    if (!encrypted) {
      notes.add("credentials not sent over plaintext");
      return;
    }
    if (target.port() == RELAY_PORT) {
      // Port 25 is server-to-server relay: servers rarely offer AUTH there, nor should they.
      notes.add("AUTH not checked on the relay port");
      return;
    }
    if (acceptedUnverified.isPresent()) {
      notes.add(
          "credentials not sent: the certificate failed verification ("
              + acceptedUnverified.get().message()
              + "), accepted for reachability only (--insecure)");
      return;
    }
    if (!certificateVerified) {
      notes.add("credentials not sent: the certificate is not valid");
      return;
    }
    List<String> mechanisms = offeredAuth;
    long t = System.nanoTime();
    SmtpReply reply;
    if (mechanisms.contains("PLAIN")) {
      String token = "\0" + credentials.username() + "\0" + credentials.password();
      reply = command("AUTH PLAIN " + base64(token), Step.AUTH);
    } else if (mechanisms.contains("LOGIN")) {
      reply = command("AUTH LOGIN", Step.AUTH);
      if (reply.code() == 334) {
        reply = command(base64(credentials.username()), Step.AUTH);
      }
      if (reply.code() == 334) {
        reply = command(base64(credentials.password()), Step.AUTH);
      }
    } else {
      throw new ProbeFailure(
          Reason.AUTH_NOT_OFFERED,
          mechanisms.isEmpty()
              ? "server offers no AUTH"
              : "server offers AUTH " + String.join(" ", mechanisms) + ", none of PLAIN, LOGIN");
    }
    result.timing(Phase.AUTH, Duration.ofNanos(System.nanoTime() - t));
    if (reply.code() == 235) {
      result.authenticated(true);
      notes.add("AUTH " + credentials.shownAs() + " accepted");
      return;
    }
    result.authenticated(false);
    quit();
    throw new ProbeFailure(
        Reason.AUTH_FAILED,
        "AUTH " + credentials.shownAs() + " rejected: " + Text.excerpt(reply.summary()));
  }

  private List<String> authMechanisms(List<String> caps) {
    List<String> mechanisms = new ArrayList<>();
    for (String cap : caps) {
      String upper = cap.toUpperCase(Locale.ROOT);
      if (upper.startsWith("AUTH ") || upper.startsWith("AUTH=")) {
        for (String m : upper.substring(5).trim().split("\\s+")) {
          if (!m.isEmpty() && !mechanisms.contains(m)) {
            mechanisms.add(m);
          }
        }
      }
    }
    offeredAuth = mechanisms;
    return mechanisms;
  }

  /** Says goodbye politely; a server that does not answer QUIT changes nothing. */
  private void quit() {
    try {
      write("QUIT");
      socket.setSoTimeout(deadline.boundMillis(Duration.ofSeconds(1)));
      reader.read();
    } catch (IOException e) {
      // The verdict is already known.
    }
  }

  // ---- I/O ----

  private SmtpReply command(String line, Step step) throws ProbeFailure {
    try {
      write(line);
    } catch (IOException e) {
      if (watch.expired()) {
        throw new ProbeFailure(
            Reason.READ_TIMEOUT,
            step.label
                + " not sent by the "
                + Durations.format(options.timeout())
                + " deadline: the server stopped reading");
      }
      throw readFailure(e, step, options.readTimeout());
    }
    return read(step, options.readTimeout());
  }

  private void write(String line) throws IOException {
    // The AUTH PLAIN token and the AUTH LOGIN answers are the credential's base64 forms: redacted.
    tell(TranscriptListener.Kind.SENT, redactor.redact(line));
    out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private SmtpReply read(Step step, Duration timeout) throws ProbeFailure {
    boolean cut = deadline.cuts(timeout);
    try {
      socket.setSoTimeout(deadline.boundMillis(timeout));
      return reader.read();
    } catch (IOException e) {
      throw readFailure(e, step, cut ? options.timeout() : timeout);
    }
  }

  private ProbeFailure readFailure(IOException e, Step step, Duration timeout) {
    // The greeting wait is measured from connect, so its limit is the read timeout, not what was
    // left.
    Duration shown =
        step == Step.GREETING && timeout.compareTo(options.readTimeout()) < 0
            ? options.readTimeout()
            : timeout;
    String limit = Durations.format(shown);
    if (e instanceof ReplyTooLongException t) {
      return new ProbeFailure(
          Reason.REPLY_TOO_LONG, step.label + " reply too long: " + t.getMessage());
    }
    if (e instanceof MalformedReplyException m) {
      return step == Step.GREETING
          ? new ProbeFailure(Reason.NOT_SMTP, "not an SMTP server: it sent '" + m.excerpt() + "'")
          : new ProbeFailure(
              Reason.UNEXPECTED_REPLY, "malformed " + step.label + " reply: '" + m.excerpt() + "'");
    }
    if (watch.expired()) {
      // The server kept each read alive (a byte at a time, or lines without end) past the deadline.
      String deadlineText = "by the " + Durations.format(options.timeout()) + " deadline";
      return step == Step.GREETING
          ? new ProbeFailure(
              Reason.NO_GREETING, "connected, but the greeting was not complete " + deadlineText)
          : new ProbeFailure(
              Reason.READ_TIMEOUT, step.label + " reply not complete " + deadlineText);
    }
    if (e instanceof SocketTimeoutException) {
      return step == Step.GREETING
          ? new ProbeFailure(Reason.NO_GREETING, "connected, but no greeting within " + limit)
          : new ProbeFailure(Reason.READ_TIMEOUT, "no " + step.label + " reply within " + limit);
    }
    if (e instanceof EOFException) {
      return new ProbeFailure(
          Reason.CONNECTION_CLOSED,
          "server closed the connection "
              + (step == Step.GREETING ? "without a greeting" : "after " + step.label));
    }
    String msg = String.valueOf(e.getMessage());
    if (msg.contains("reset")) {
      return new ProbeFailure(Reason.CONNECTION_RESET, "connection reset during " + step.label);
    }
    return new ProbeFailure(
        Reason.CONNECTION_CLOSED,
        "connection lost during " + step.label + ": " + redactor.excerpt(msg));
  }

  private int pendingInput() {
    try {
      return in.available();
    } catch (IOException e) {
      return 0;
    }
  }

  private static String keyword(String capability) {
    int space = capability.indexOf(' ');
    return (space < 0 ? capability : capability.substring(0, space)).toUpperCase(Locale.ROOT);
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A reader of the current connection's replies, which tells the transcript each line. */
  private SmtpReplyReader replyReader() {
    return new SmtpReplyReader(
        in, redactor::redact, line -> tell(TranscriptListener.Kind.RECEIVED, line));
  }

  private void tell(TranscriptListener.Kind kind, String text) {
    transcript.line(
        new TranscriptListener.Line(host, target, result.family(), kind, encrypted, text));
  }

  private void close() {
    if (raw != null) {
      tell(TranscriptListener.Kind.NOTE, "connection closed");
    }
    // The plain socket first: a TLS socket closed over an open one may wait for the server's
    // close_notify, which a hostile server can send a byte at a time.
    closeQuietly(raw);
    closeQuietly(socket);
    socket = null;
    raw = null;
  }

  private static void closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        // nothing to report
      }
    }
  }
}
