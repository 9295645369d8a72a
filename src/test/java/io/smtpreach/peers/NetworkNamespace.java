package io.smtpreach.peers;

import java.util.ArrayList;
import java.util.List;

/**
 * A test host in its own network namespace, joined to this machine by a veth pair on a /30 of the
 * benchmarking range 198.18.0.0/15 (RFC 2544), with its own iptables rules: what a node's egress
 * firewall does to SMTP, for real. Only the two ends of the pair are ever addressed.
 */
public final class NetworkNamespace implements AutoCloseable {
  private final String name;
  private final String hostLink;
  private final int subnet;

  private NetworkNamespace(String name, int subnet) {
    this.name = name;
    this.hostLink = "srh" + subnet;
    this.subnet = subnet;
  }

  /** Whether this machine lets us make namespaces: root with ip and iptables. */
  public static void requireSupport() {
    Requirements.require(Requirements.isRoot(), "network namespaces need root");
    Requirements.require(
        Requirements.onPath("ip"), "iproute2 is not installed (apt-get install iproute2)");
    Requirements.require(
        Requirements.onPath("iptables"), "iptables is not installed (apt-get install iptables)");
  }

  /**
   * Creates namespace {@code smtp-reach-test-<subnet>} on 198.18.{subnet}.0/30, replacing a stale
   * one.
   */
  public static NetworkNamespace create(int subnet) {
    NetworkNamespace ns = new NetworkNamespace("smtp-reach-test-" + subnet, subnet);
    ns.close();
    String peerLink = "srn" + subnet;
    ip("netns", "add", ns.name);
    ip("link", "add", ns.hostLink, "type", "veth", "peer", "name", peerLink);
    ip("link", "set", peerLink, "netns", ns.name);
    ip("addr", "add", ns.hostAddress() + "/30", "dev", ns.hostLink);
    ip("link", "set", ns.hostLink, "up");
    ns.exec("ip", "addr", "add", ns.address() + "/30", "dev", peerLink)
        .orThrow("address the namespace");
    ns.exec("ip", "link", "set", peerLink, "up").orThrow("bring up the namespace link");
    ns.exec("ip", "link", "set", "lo", "up").orThrow("bring up loopback");
    return ns;
  }

  /** This machine's end of the pair, as seen from inside: where the namespace's traffic goes. */
  public String hostAddress() {
    return "198.18." + subnet + ".1";
  }

  /** The namespace's own address. */
  public String address() {
    return "198.18." + subnet + ".2";
  }

  /**
   * Adds an iptables rule inside the namespace, e.g. {@code -A OUTPUT -p tcp --dport 587 -j DROP}.
   */
  public void iptables(String... rule) {
    List<String> cmd = new ArrayList<>(List.of("iptables"));
    cmd.addAll(List.of(rule));
    exec(cmd.toArray(String[]::new)).orThrow("iptables " + String.join(" ", rule));
  }

  /** Removes every rule of the namespace's filter table. */
  public void flush() {
    exec("iptables", "-F").orThrow("iptables -F");
  }

  /** Runs a command inside the namespace. */
  public ProcessRunner.Result exec(String... command) {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
    cmd.addAll(List.of(command));
    return ProcessRunner.run(cmd, 120);
  }

  public String name() {
    return name;
  }

  @Override
  public void close() {
    ProcessRunner.run(List.of("ip", "netns", "del", name), 30);
    ProcessRunner.run(List.of("ip", "link", "del", hostLink), 30);
  }

  private static void ip(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    ProcessRunner.run(cmd, 30).orThrow(String.join(" ", cmd));
  }
}
