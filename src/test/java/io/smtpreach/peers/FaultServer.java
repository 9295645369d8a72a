package io.smtpreach.peers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A purpose-built hostile SMTP server on a loopback port, for the cases no real server produces on
 * demand: silence, a slow greeting, replies sent a byte at a time, endless replies, garbage,
 * resets, bad certificates, TLS 1.0, replies that echo the credential, a server that stops reading.
 */
public final class FaultServer implements AutoCloseable {
  /** What the server does with each accepted connection. */
  @FunctionalInterface
  public interface Behaviour {
    void serve(Socket client) throws Exception;
  }

  private final ServerSocket server;
  private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
  private final CountDownLatch closed = new CountDownLatch(1);

  private FaultServer(Behaviour behaviour) throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket client = server.accept();
                  clients.add(client);
                  Thread t =
                      new Thread(
                          () -> {
                            try (client) {
                              behaviour.serve(client);
                            } catch (Exception e) {
                              // The prober hung up or the test ended: both are expected here.
                            } finally {
                              clients.remove(client);
                            }
                          },
                          "fault-client");
                  t.setDaemon(true);
                  t.start();
                } catch (IOException e) {
                  return;
                }
              }
            },
            "fault-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public static FaultServer start(Behaviour behaviour) throws IOException {
    return new FaultServer(behaviour);
  }

  public int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    closed.countDown();
    server.close();
    for (Socket s : clients) {
      s.close();
    }
  }

  // ---- behaviours ----

  /** Accepts and never says a word (a tarpit, or a middlebox that holds connections). */
  public static Behaviour silent() {
    return FaultServer::drain;
  }

  /** Sends these bytes, then listens without answering. */
  public static Behaviour sends(byte[] bytes) {
    return client -> {
      client.getOutputStream().write(bytes);
      client.getOutputStream().flush();
      drain(client);
    };
  }

  /** Accepts, then aborts the connection with a TCP RST. */
  public static Behaviour resets() {
    return client -> client.setSoLinger(true, 0);
  }

  /** A multi-line reply that never ends. */
  public static Behaviour endlessReply() {
    return client -> {
      OutputStream out = client.getOutputStream();
      byte[] line = ("220-" + "x".repeat(70) + "\r\n").getBytes(StandardCharsets.US_ASCII);
      while (true) {
        out.write(line);
      }
    };
  }

  /** A small SMTP server following {@code script}. */
  public static Behaviour smtp(SmtpScript script) {
    return client -> new Dialogue(client, script).run();
  }

  /** Implicit TLS with the given context, protocols and suites, then the SMTP script. */
  public static Behaviour implicitTls(
      SSLContext ctx, List<String> protocols, List<String> suites, SmtpScript script) {
    return client -> {
      SSLSocket tls =
          (SSLSocket) ctx.getSocketFactory().createSocket(client, null, client.getPort(), true);
      tls.setUseClientMode(false);
      if (protocols != null) {
        tls.setEnabledProtocols(protocols.toArray(String[]::new));
      }
      if (suites != null) {
        tls.setEnabledCipherSuites(suites.toArray(String[]::new));
      }
      tls.startHandshake();
      new Dialogue(tls, script).run();
    };
  }

  /**
   * How the small SMTP server behaves: its greeting (after a delay), EHLO capabilities, the reply
   * to STARTTLS, the TLS context used when STARTTLS is accepted, the reply to AUTH, which of its
   * replies it drips, and where it writes down every line it hears.
   *
   * @param slow the step whose reply is sent one byte per {@code dripInterval}; null for none
   * @param heard every line the server reads is added here; may be null
   */
  public record SmtpScript(
      Duration greetingDelay,
      String greeting,
      List<String> capabilities,
      String startTlsReply,
      SSLContext tls,
      String authReply,
      Step slow,
      Duration dripInterval,
      Queue<String> heard,
      String ehloLine) {
    /** In {@link #ehloLine}, replaced by the address the client connected from. */
    public static final String CLIENT = "{client}";

    public static SmtpScript plain() {
      return new SmtpScript(
          Duration.ZERO,
          "220 fault.test ESMTP",
          List.of("PIPELINING", "8BITMIME"),
          "502 5.5.1 not here",
          null,
          "535 5.7.8 authentication failed",
          null,
          null,
          null,
          "fault.test");
    }

    /**
     * The first line of the EHLO reply, after {@code 250-}; {@link #CLIENT} in it becomes the
     * client's address, as Exim ({@code Hello name [addr]}) and Gmail ({@code at your service,
     * [addr]}) echo it.
     */
    public SmtpScript ehloLine(String line) {
      return new SmtpScript(
          greetingDelay,
          greeting,
          capabilities,
          startTlsReply,
          tls,
          authReply,
          slow,
          dripInterval,
          heard,
          line);
    }

    public SmtpScript greetingDelay(Duration d) {
      return new SmtpScript(
          d,
          greeting,
          capabilities,
          startTlsReply,
          tls,
          authReply,
          slow,
          dripInterval,
          heard,
          ehloLine);
    }

    public SmtpScript greeting(String g) {
      return new SmtpScript(
          greetingDelay,
          g,
          capabilities,
          startTlsReply,
          tls,
          authReply,
          slow,
          dripInterval,
          heard,
          ehloLine);
    }

    public SmtpScript capabilities(String... caps) {
      return new SmtpScript(
          greetingDelay,
          greeting,
          List.of(caps),
          startTlsReply,
          tls,
          authReply,
          slow,
          dripInterval,
          heard,
          ehloLine);
    }

    public SmtpScript startTls(String reply, SSLContext ctx) {
      return new SmtpScript(
          greetingDelay,
          greeting,
          capabilities,
          reply,
          ctx,
          authReply,
          slow,
          dripInterval,
          heard,
          ehloLine);
    }

    /** The reply to AUTH PLAIN, or to the password of AUTH LOGIN. */
    public SmtpScript authReply(String reply) {
      return new SmtpScript(
          greetingDelay,
          greeting,
          capabilities,
          startTlsReply,
          tls,
          reply,
          slow,
          dripInterval,
          heard,
          ehloLine);
    }

    /**
     * Sends the reply of {@code step} one byte every {@code interval}; for {@link
     * Step#TLS_HANDSHAKE}, answers STARTTLS and then drips a TLS record that never ends.
     */
    public SmtpScript drips(Step step, Duration interval) {
      return new SmtpScript(
          greetingDelay,
          greeting,
          capabilities,
          startTlsReply,
          tls,
          authReply,
          step,
          interval,
          heard,
          ehloLine);
    }

    /** Writes down every line the server reads into {@code lines}. */
    public SmtpScript heardInto(Queue<String> lines) {
      return new SmtpScript(
          greetingDelay,
          greeting,
          capabilities,
          startTlsReply,
          tls,
          authReply,
          slow,
          dripInterval,
          lines,
          ehloLine);
    }
  }

  /** The steps of a dialogue whose reply a script can drip. */
  public enum Step {
    GREETING,
    EHLO,
    STARTTLS,
    TLS_HANDSHAKE,
    AUTH,
    QUIT
  }

  /**
   * Implicit TLS that never completes: the start of a TLS handshake record, then one byte of it
   * every {@code interval}.
   */
  public static Behaviour dripsTlsHandshake(Duration interval) {
    return client -> dripTlsRecord(client.getOutputStream(), interval);
  }

  /**
   * Greets, then reads nothing for {@code hold}: once the kernel's buffers are full, whatever the
   * prober writes blocks (a TCP window of zero).
   */
  public static Behaviour greetsThenStopsReading(Duration hold) {
    return client -> {
      client
          .getOutputStream()
          .write("220 fault.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
      client.getOutputStream().flush();
      // Not reading is the behaviour under test, not synchronisation.
      new CountDownLatch(1).await(hold.toMillis(), TimeUnit.MILLISECONDS);
    };
  }

  private static final class Dialogue {
    private Socket socket;
    private final SmtpScript script;

    Dialogue(Socket socket, SmtpScript script) {
      this.socket = socket;
      this.script = script;
    }

    void run() throws Exception {
      if (!script.greetingDelay().isZero()) {
        // Holding the greeting back is the behaviour under test, not synchronisation.
        new CountDownLatch(1).await(script.greetingDelay().toMillis(), TimeUnit.MILLISECONDS);
      }
      reply(Step.GREETING, script.greeting());
      BufferedReader in = reader();
      String line;
      while ((line = hear(in)) != null) {
        String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
        switch (verb) {
          case "EHLO" -> {
            StringBuilder reply = new StringBuilder("250");
            String first =
                script
                    .ehloLine()
                    .replace(
                        SmtpScript.CLIENT,
                        ((java.net.InetSocketAddress) socket.getRemoteSocketAddress())
                            .getAddress()
                            .getHostAddress());
            reply.append(script.capabilities().isEmpty() ? " " : "-").append(first).append("\r\n");
            for (int i = 0; i < script.capabilities().size(); i++) {
              boolean last = i == script.capabilities().size() - 1;
              reply
                  .append("250")
                  .append(last ? " " : "-")
                  .append(script.capabilities().get(i))
                  .append("\r\n");
            }
            String text = reply.toString();
            reply(Step.EHLO, text.substring(0, text.length() - 2));
          }
          case "STARTTLS" -> {
            reply(Step.STARTTLS, script.startTlsReply());
            if (script.slow() == Step.TLS_HANDSHAKE) {
              dripTlsRecord(socket.getOutputStream(), script.dripInterval());
              return;
            }
            if (script.startTlsReply().startsWith("220") && script.tls() != null) {
              SSLSocket tls =
                  (SSLSocket)
                      script
                          .tls()
                          .getSocketFactory()
                          .createSocket(socket, null, socket.getPort(), true);
              tls.setUseClientMode(false);
              tls.startHandshake();
              socket = tls;
              in = reader();
            }
          }
          case "QUIT" -> {
            reply(Step.QUIT, "221 2.0.0 bye");
            return;
          }
          case "AUTH" -> {
            if (line.toUpperCase(Locale.ROOT).startsWith("AUTH LOGIN")) {
              write("334 VXNlcm5hbWU6");
              hear(in);
              write("334 UGFzc3dvcmQ6");
              hear(in);
            }
            reply(Step.AUTH, script.authReply());
          }
          default -> write("502 5.5.2 command not recognized");
        }
      }
    }

    private String hear(BufferedReader in) throws IOException {
      String line = in.readLine();
      if (line != null && script.heard() != null) {
        script.heard().add(line);
      }
      return line;
    }

    private BufferedReader reader() throws IOException {
      return new BufferedReader(
          new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Sends the reply of {@code step}, dripped if the script says so. */
    private void reply(Step step, String text) throws Exception {
      if (script.slow() == step) {
        drip(socket.getOutputStream(), (text + "\r\n").getBytes(StandardCharsets.UTF_8));
      } else {
        write(text);
      }
    }

    private void drip(OutputStream out, byte[] bytes) throws Exception {
      FaultServer.drip(out, bytes, script.dripInterval());
    }

    private void write(String line) throws IOException {
      raw(line + "\r\n");
    }

    private void raw(String text) throws IOException {
      socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
    }
  }

  /** The start of a TLS handshake record (type 22, TLS 1.2, 16 KiB long), then its body dripped. */
  private static void dripTlsRecord(OutputStream out, Duration interval) throws Exception {
    out.write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00});
    out.flush();
    drip(out, new byte[0x4000], interval);
  }

  /** Sends {@code bytes} one at a time, {@code interval} apart. */
  private static void drip(OutputStream out, byte[] bytes, Duration interval) throws Exception {
    for (byte b : bytes) {
      // The pause between bytes is the behaviour under test, not synchronisation.
      new CountDownLatch(1).await(interval.toMillis(), TimeUnit.MILLISECONDS);
      out.write(b);
      out.flush();
    }
  }

  private static void drain(Socket client) throws IOException {
    InputStream in = client.getInputStream();
    byte[] buf = new byte[1024];
    while (in.read(buf) >= 0) {
      // discard until the prober hangs up
    }
  }
}
