package io.smtpreach.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real network cases: the {@code smtp-reach probe} command runs inside a network namespace
 * whose iptables rules drop, reset or reject the way node firewalls and cloud egress do, against
 * the real Postfix on the other end of the link.
 */
@ExtendWith(PostfixPeer.class)
class NetworkPathTest {
  private static NetworkNamespace node;

  @BeforeAll
  static void createNamespace() {
    NetworkNamespace.requireSupport();
    node = NetworkNamespace.create(41);
  }

  @AfterAll
  static void removeNamespace() {
    if (node != null) {
      node.close();
    }
  }

  @AfterEach
  void openTheFirewall() {
    if (node != null) {
      node.flush();
    }
  }

  /** Runs the command in the namespace and reads its JSON report. */
  private static ProbeResult probeFromNode(
      PostfixPeer.Instance peer, String target, String... extra) throws MalformedReportException {
    java.util.List<String> cmd =
        new java.util.ArrayList<>(
            java.util.List.of(
                ProjectPaths.java(),
                "-cp",
                ProjectPaths.classPath(),
                "io.smtpreach.cli.Main",
                "probe",
                node.hostAddress(),
                "--json",
                "--ca-file",
                peer.caFile().toString(),
                "--connect-timeout",
                "1500ms",
                "--server-name",
                "smtp.test",
                "-p",
                target));
    cmd.addAll(java.util.List.of(extra));
    ProcessRunner.Result run = node.exec(cmd.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.output()).isIn(0, 1);
    ProbeReport report = ReportCodec.decode(run.output().strip());
    assertThat(report.results()).hasSize(1);
    return report.results().get(0);
  }

  @Test
  void withAnOpenPathEveryPortIsReachableFromTheNode(PostfixPeer.Instance peer) throws Exception {
    ProbeResult r = probeFromNode(peer, "587:starttls");
    assertThat(r.reason()).as(r.message()).isEqualTo(Reason.OK);
    assertThat(r.address()).isEqualTo(node.hostAddress());
  }

  @Test
  void aDropRuleIsBlockedAtTheConfiguredConnectTimeout(PostfixPeer.Instance peer) throws Exception {
    node.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    ProbeResult r = probeFromNode(peer, "587:starttls");
    assertThat(r.reason()).isEqualTo(Reason.CONNECT_TIMEOUT);
    assertThat(r.state()).isEqualTo(PortState.BLOCKED);
    assertThat(r.message()).contains("timed out after 1.5s").contains("blocked");
    assertThat(r.timing(Phase.TOTAL)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void aTcpResetRuleIsRefused(PostfixPeer.Instance peer) throws Exception {
    node.iptables(
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "--dport",
        "587",
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset");
    ProbeResult r = probeFromNode(peer, "587:starttls");
    assertThat(r.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
    assertThat(r.state()).isEqualTo(PortState.REFUSED);
  }

  @Test
  void anIcmpPortUnreachableRuleIsRefused(PostfixPeer.Instance peer) throws Exception {
    node.iptables(
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "--dport",
        "465",
        "-j",
        "REJECT",
        "--reject-with",
        "icmp-port-unreachable");
    ProbeResult r = probeFromNode(peer, "465:implicit");
    assertThat(r.reason()).isEqualTo(Reason.CONNECTION_REFUSED);
  }

  @Test
  void anIcmpHostUnreachableRuleIsUnreachable(PostfixPeer.Instance peer) throws Exception {
    node.iptables(
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "--dport",
        "2525",
        "-j",
        "REJECT",
        "--reject-with",
        "icmp-host-unreachable");
    ProbeResult r = probeFromNode(peer, "2525:starttls");
    assertThat(r.reason()).isEqualTo(Reason.HOST_UNREACHABLE);
    assertThat(r.state()).isEqualTo(PortState.UNREACHABLE);
  }

  @Test
  void anIcmpNetworkUnreachableRuleIsNetworkUnreachable(PostfixPeer.Instance peer)
      throws Exception {
    node.iptables(
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "--dport",
        "25",
        "-j",
        "REJECT",
        "--reject-with",
        "icmp-net-unreachable");
    ProbeResult r = probeFromNode(peer, "25:auto");
    assertThat(r.reason()).isEqualTo(Reason.NETWORK_UNREACHABLE);
  }

  @Test
  void aResetMidDialogueIsConnectionReset(PostfixPeer.Instance peer) throws Exception {
    // The handshake and the greeting pass; our first command (EHLO) is answered with a TCP RST,
    // as a middlebox that inspects SMTP and kills the session does.
    node.iptables(
        "-A",
        "OUTPUT",
        "-p",
        "tcp",
        "--dport",
        "2525",
        "--tcp-flags",
        "PSH",
        "PSH",
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset");
    ProbeResult r = probeFromNode(peer, "2525:starttls");
    assertThat(r.reason()).as(r.message()).isEqualTo(Reason.CONNECTION_RESET);
    assertThat(r.state()).isEqualTo(PortState.REFUSED);
    assertThat(r.greeting()).isEqualTo("220 smtp.test ESMTP Postfix");
  }
}
