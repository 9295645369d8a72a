package io.smtpreach.peers;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * A DNS server for tests that answers from a small table of names, so that every DNS outcome a
 * resolver must tell apart (records, NXDOMAIN, no data, SERVFAIL, silence) can be produced on
 * demand; PTR, TXT and blocklist names too, so that no test asks a public resolver or list. It
 * listens on 127.0.0.1, UDP and TCP on the same ephemeral port, because dnsjava asks again over TCP
 * when a UDP answer is truncated. Names not in the table do not exist (NXDOMAIN); every question is
 * logged so that tests can say what a resolver asked.
 */
public final class FakeDnsServer implements AutoCloseable {
  /** One question as the server received it: an absolute name ("mx.test.") and a type ("MX"). */
  public record Query(String name, String type, boolean tcp) {}

  private enum Behaviour {
    ANSWER,
    NXDOMAIN,
    SERVFAIL,
    SILENT
  }

  /** What the server does for one name; records are answered by type, else NOERROR no data. */
  private record Entry(Behaviour behaviour, List<Record> records, boolean truncateOverUdp) {
    static final Entry EMPTY = new Entry(Behaviour.ANSWER, List.of(), false);

    Entry with(Record record) {
      List<Record> more = new ArrayList<>(records);
      more.add(record);
      return new Entry(Behaviour.ANSWER, List.copyOf(more), truncateOverUdp);
    }
  }

  private static final long TTL = 60;
  private static final int MAX_LOGGED_QUERIES = 1_000;
  private static final int MAX_TCP_CONNECTIONS = 4;
  private static final int TCP_IDLE_MILLIS = 5_000;
  private static final SOARecord SOA = soa();

  private final Map<Name, Entry> names = new ConcurrentHashMap<>();
  private final List<Query> queries = new CopyOnWriteArrayList<>();
  private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
  private final DatagramSocket udp;
  private final ServerSocket tcp;
  private final ExecutorService tcpHandlers;
  private final Thread udpLoop;
  private final Thread tcpLoop;
  private volatile boolean closed;

  private FakeDnsServer(DatagramSocket udp, ServerSocket tcp) {
    this.udp = udp;
    this.tcp = tcp;
    this.tcpHandlers =
        new ThreadPoolExecutor(
            0,
            MAX_TCP_CONNECTIONS,
            1,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> daemon(r, "fake-dns-tcp-connection"));
    this.udpLoop = daemon(this::serveUdp, "fake-dns-udp");
    this.tcpLoop = daemon(this::acceptTcp, "fake-dns-tcp");
  }

  /** Binds UDP and TCP to one free port on 127.0.0.1 and starts answering. */
  public static FakeDnsServer start() throws IOException {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    for (int attempt = 0; ; attempt++) {
      DatagramSocket udp = new DatagramSocket(new InetSocketAddress(loopback, 0));
      try {
        ServerSocket tcp = new ServerSocket(udp.getLocalPort(), 16, loopback);
        FakeDnsServer server = new FakeDnsServer(udp, tcp);
        server.udpLoop.start();
        server.tcpLoop.start();
        return server;
      } catch (BindException e) {
        udp.close();
        if (attempt == 10) {
          throw e;
        }
      }
    }
  }

  /**
   * Binds UDP and TCP to {@code address}:{@code port}, for resolvers that cannot be told a port: a
   * real node's pods, whose {@code /etc/resolv.conf} names the node's bridge address (port 53).
   */
  public static FakeDnsServer start(InetAddress address, int port) throws IOException {
    DatagramSocket udp = new DatagramSocket(new InetSocketAddress(address, port));
    try {
      FakeDnsServer server = new FakeDnsServer(udp, new ServerSocket(port, 16, address));
      server.udpLoop.start();
      server.tcpLoop.start();
      return server;
    } catch (IOException e) {
      udp.close();
      throw e;
    }
  }

  /** Where to send queries: the {@code dnsServer} of the prober under test. */
  public InetSocketAddress address() {
    return new InetSocketAddress(udp.getLocalAddress(), udp.getLocalPort());
  }

  /** Adds IPv4 addresses to {@code name}. */
  public FakeDnsServer a(String name, String... addresses) {
    for (String address : addresses) {
      add(name, n -> new ARecord(n, DClass.IN, TTL, InetAddress.getByName(address)));
    }
    return this;
  }

  /** Adds IPv6 addresses to {@code name}. */
  public FakeDnsServer aaaa(String name, String... addresses) {
    for (String address : addresses) {
      add(name, n -> new AAAARecord(n, DClass.IN, TTL, InetAddress.getByName(address)));
    }
    return this;
  }

  /** Adds an MX record; {@code host} "." makes a null MX (RFC 7505). */
  public FakeDnsServer mx(String domain, int preference, String host) {
    add(domain, n -> new MXRecord(n, DClass.IN, TTL, preference, absolute(host)));
    return this;
  }

  /**
   * Adds a PTR record for {@code address} (its in-addr.arpa or ip6.arpa name) naming {@code host}.
   */
  public FakeDnsServer ptr(String address, String host) {
    Name reverse;
    try {
      reverse = ReverseMap.fromAddress(InetAddress.getByName(address));
    } catch (IOException e) {
      throw new IllegalArgumentException("'" + address + "' is not an address literal", e);
    }
    add(reverse.toString(), n -> new PTRRecord(n, DClass.IN, TTL, absolute(host)));
    return this;
  }

  /** Adds a TXT record to {@code name}: a blocklist's reason for a listing, say. */
  public FakeDnsServer txt(String name, String text) {
    add(name, n -> new TXTRecord(n, DClass.IN, TTL, text));
    return this;
  }

  /**
   * The name a DNS blocklist is asked about for an address: its octets (or, for IPv6, nibbles) in
   * reverse order, then the list's zone: {@code 5.113.0.203.bl.test} for 203.0.113.5.
   */
  public static String blocklistName(String zone, String address) {
    Name reverse;
    try {
      reverse = ReverseMap.fromAddress(InetAddress.getByName(address));
    } catch (IOException e) {
      throw new IllegalArgumentException("'" + address + "' is not an address literal", e);
    }
    String r = reverse.toString();
    return r.substring(0, r.indexOf(address.contains(":") ? ".ip6.arpa." : ".in-addr.arpa."))
        + "."
        + zone;
  }

  /** The RFC 7505 "this domain accepts no mail" record: {@code MX 0 .}. */
  public FakeDnsServer nullMx(String domain) {
    return mx(domain, 0, ".");
  }

  /** {@code name} exists but has no records: NOERROR with no data for every type. */
  public FakeDnsServer exists(String name) {
    names.putIfAbsent(absolute(name), Entry.EMPTY);
    return this;
  }

  /** NXDOMAIN for {@code name}, as for any name not configured; says so in the test. */
  public FakeDnsServer nxdomain(String name) {
    return set(name, Behaviour.NXDOMAIN);
  }

  /** SERVFAIL for every question about {@code name}. */
  public FakeDnsServer servfail(String name) {
    return set(name, Behaviour.SERVFAIL);
  }

  /** No answer at all for {@code name}, so that the resolver times out. */
  public FakeDnsServer silent(String name) {
    return set(name, Behaviour.SILENT);
  }

  /** UDP answers about {@code name} come back empty and truncated (TC): only TCP has the data. */
  public FakeDnsServer truncateOverUdp(String name) {
    names.compute(
        absolute(name),
        (n, e) -> {
          Entry entry = e == null ? Entry.EMPTY : e;
          return new Entry(entry.behaviour(), entry.records(), true);
        });
    return this;
  }

  /** Every question received so far, oldest first. */
  public List<Query> queries() {
    return List.copyOf(queries);
  }

  /** The questions received about {@code name}, oldest first. */
  public List<Query> queries(String name) {
    String wanted = absolute(name).toString();
    return queries.stream().filter(q -> q.name().equalsIgnoreCase(wanted)).toList();
  }

  @Override
  public void close() {
    closed = true;
    udp.close();
    try {
      tcp.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Socket s : connections) {
      closeQuietly(s);
    }
    tcpHandlers.shutdownNow();
    try {
      udpLoop.join(1_000);
      tcpLoop.join(1_000);
      tcpHandlers.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private interface RecordFactory {
    Record create(Name name) throws IOException;
  }

  private void add(String name, RecordFactory factory) {
    Name owner = absolute(name);
    Record record;
    try {
      record = factory.create(owner);
    } catch (IOException e) {
      throw new IllegalArgumentException("bad record data for " + name, e);
    }
    names.merge(owner, Entry.EMPTY.with(record), (old, fresh) -> old.with(record));
  }

  private FakeDnsServer set(String name, Behaviour behaviour) {
    names.put(absolute(name), new Entry(behaviour, List.of(), false));
    return this;
  }

  private void serveUdp() {
    byte[] buffer = new byte[65_535];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        udp.receive(packet);
        Message query = new Message(Arrays.copyOf(buffer, packet.getLength()));
        Message response = respond(query, false);
        if (response != null) {
          byte[] wire = response.toWire(udpLimit(query));
          udp.send(new DatagramPacket(wire, wire.length, packet.getSocketAddress()));
        }
      } catch (SocketException e) {
        return; // closed
      } catch (IOException | RuntimeException e) {
        // a malformed packet: ignore it, as a server would
      }
    }
  }

  private void acceptTcp() {
    while (!closed) {
      Socket s;
      try {
        s = tcp.accept();
      } catch (IOException e) {
        return; // closed
      }
      connections.add(s);
      try {
        tcpHandlers.execute(() -> serveTcp(s));
      } catch (RejectedExecutionException e) {
        connections.remove(s);
        closeQuietly(s);
      }
    }
  }

  /** Length-prefixed messages (RFC 1035 4.2.2) until the client closes or goes idle. */
  private void serveTcp(Socket s) {
    try (s;
        DataInputStream in = new DataInputStream(s.getInputStream());
        DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
      s.setSoTimeout(TCP_IDLE_MILLIS);
      while (!closed) {
        byte[] wire = new byte[in.readUnsignedShort()];
        in.readFully(wire);
        Message response = respond(new Message(wire), true);
        if (response != null) {
          byte[] answer = response.toWire();
          out.writeShort(answer.length);
          out.write(answer);
          out.flush();
        }
      }
    } catch (EOFException e) {
      // the client is done
    } catch (IOException | RuntimeException e) {
      // idle, closed or malformed: drop the connection
    } finally {
      connections.remove(s);
    }
  }

  /** The answer to {@code query}, or null to stay silent. */
  private Message respond(Message query, boolean overTcp) {
    Record question = query.getQuestion();
    if (question == null) {
      return null;
    }
    if (queries.size() < MAX_LOGGED_QUERIES) {
      queries.add(
          new Query(question.getName().toString(), Type.string(question.getType()), overTcp));
    }
    Entry entry = names.get(question.getName());
    if (entry != null && entry.behaviour() == Behaviour.SILENT) {
      return null;
    }
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setFlag(Flags.AA);
    response.getHeader().setFlag(Flags.RA);
    if (query.getHeader().getFlag(Flags.RD)) {
      response.getHeader().setFlag(Flags.RD);
    }
    response.addRecord(question, Section.QUESTION);
    if (entry == null || entry.behaviour() == Behaviour.NXDOMAIN) {
      response.getHeader().setRcode(Rcode.NXDOMAIN);
      response.addRecord(SOA, Section.AUTHORITY);
    } else if (entry.behaviour() == Behaviour.SERVFAIL) {
      response.getHeader().setRcode(Rcode.SERVFAIL);
    } else if (entry.truncateOverUdp() && !overTcp) {
      response.getHeader().setFlag(Flags.TC);
    } else {
      List<Record> matching =
          entry.records().stream()
              .filter(r -> question.getType() == Type.ANY || r.getType() == question.getType())
              .toList();
      matching.forEach(r -> response.addRecord(r, Section.ANSWER));
      if (matching.isEmpty()) {
        response.addRecord(SOA, Section.AUTHORITY); // NOERROR, no data
      }
    }
    return response;
  }

  /** 512 bytes, or what the client's EDNS OPT record offers (RFC 6891). */
  private static int udpLimit(Message query) {
    OPTRecord opt = query.getOPT();
    return opt == null ? 512 : Math.max(512, opt.getPayloadSize());
  }

  private static Name absolute(String name) {
    try {
      return Name.fromString(name, Name.root);
    } catch (TextParseException e) {
      throw new IllegalArgumentException("'" + name + "' is not a DNS name", e);
    }
  }

  /** The fake's zone is the root, so its SOA suits every negative answer (RFC 2308). */
  private static SOARecord soa() {
    return new SOARecord(
        Name.root,
        DClass.IN,
        TTL,
        absolute("fake-dns.invalid."),
        absolute("hostmaster.fake-dns.invalid."),
        1,
        TTL,
        TTL,
        TTL,
        TTL);
  }

  private static Thread daemon(Runnable body, String name) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    return t;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
