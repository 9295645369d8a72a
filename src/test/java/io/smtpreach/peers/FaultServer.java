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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A purpose-built hostile SMTP server on a loopback port, for the cases no real server produces on
 * demand: silence, a slow greeting, endless replies, garbage, resets, bad certificates, TLS 1.0.
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
   * to STARTTLS, and the TLS context used when STARTTLS is accepted.
   */
  public record SmtpScript(
      Duration greetingDelay,
      String greeting,
      List<String> capabilities,
      String startTlsReply,
      SSLContext tls) {
    public static SmtpScript plain() {
      return new SmtpScript(
          Duration.ZERO,
          "220 fault.test ESMTP",
          List.of("PIPELINING", "8BITMIME"),
          "502 5.5.1 not here",
          null);
    }

    public SmtpScript greetingDelay(Duration d) {
      return new SmtpScript(d, greeting, capabilities, startTlsReply, tls);
    }

    public SmtpScript greeting(String g) {
      return new SmtpScript(greetingDelay, g, capabilities, startTlsReply, tls);
    }

    public SmtpScript capabilities(String... caps) {
      return new SmtpScript(greetingDelay, greeting, List.of(caps), startTlsReply, tls);
    }

    public SmtpScript startTls(String reply, SSLContext ctx) {
      return new SmtpScript(greetingDelay, greeting, capabilities, reply, ctx);
    }
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
      write(script.greeting());
      BufferedReader in = reader();
      String line;
      while ((line = in.readLine()) != null) {
        String verb = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
        switch (verb) {
          case "EHLO" -> {
            StringBuilder reply = new StringBuilder("250");
            reply.append(script.capabilities().isEmpty() ? " " : "-").append("fault.test\r\n");
            for (int i = 0; i < script.capabilities().size(); i++) {
              boolean last = i == script.capabilities().size() - 1;
              reply
                  .append("250")
                  .append(last ? " " : "-")
                  .append(script.capabilities().get(i))
                  .append("\r\n");
            }
            raw(reply.toString());
          }
          case "STARTTLS" -> {
            write(script.startTlsReply());
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
            write("221 2.0.0 bye");
            return;
          }
          case "AUTH" -> write("535 5.7.8 authentication failed");
          default -> write("502 5.5.2 command not recognized");
        }
      }
    }

    private BufferedReader reader() throws IOException {
      return new BufferedReader(
          new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    private void write(String line) throws IOException {
      raw(line + "\r\n");
    }

    private void raw(String text) throws IOException {
      socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
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
