package io.smtpreach.bench;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.smtpreach.chart.ImageArchive;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.RealNode;
import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.probe.ProbeTarget;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real node a bench's probe agents run on, and what they cost there: process nodes run pods as
 * this machine's processes, one address for all, and cannot host a resident agent. The node has the
 * image {@code make image} built and a resolver on its own address, which answers the agents'
 * reverse look-ups of their own address at once, as a cluster's DNS would. Its firewall resets its
 * pods' connections to the default SMTP ports of its own address, so that a probe of that address
 * is Refused at once whatever listens on this machine (a test Postfix on 0.0.0.0, say). The
 * operator creates the agents; this only finds and measures them.
 */
final class AgentNode implements AutoCloseable {
  /** The agents' pods, as {@code AgentWorkloads} labels them. */
  private static final String AGENT_NAME = "smtp-reach-agent";

  private final RealNode node;
  private final FakeDnsServer dns;
  private long agentPid = -1;

  private AgentNode(RealNode node, FakeDnsServer dns) {
    this.node = node;
    this.dns = dns;
  }

  static AgentNode start(LocalCluster cluster, RealNode.Config config) throws IOException {
    RealNode.requireSupport();
    RealNode node = cluster.startRealNode(config);
    FakeDnsServer dns = FakeDnsServer.start(InetAddress.getByName(config.address()), 53);
    node.importImage(ImageArchive.require());
    for (ProbeTarget t : ProbeTarget.DEFAULTS) {
      node.addEgressRule(
          "-d",
          config.address(),
          "-p",
          "tcp",
          "--dport",
          Integer.toString(t.port()),
          "-j",
          "REJECT",
          "--reject-with",
          "tcp-reset");
    }
    return new AgentNode(node, dns);
  }

  /** CPU the node's pods (the agent's, with its pause container) spent so far, in ms. */
  double cpuMs() {
    return CpuMeter.podsCpuNs(node) / 1e6;
  }

  /** The agent JVM's resident memory now, in KiB; 0 while there is none. */
  synchronized long rssKib() {
    if (agentPid < 0 || !Files.exists(Path.of("/proc", Long.toString(agentPid)))) {
      agentPid = findAgentPid();
    }
    if (agentPid < 0) {
      return 0;
    }
    try {
      return Files.readAllLines(Path.of("/proc", Long.toString(agentPid), "status")).stream()
          .filter(l -> l.startsWith("VmRSS:"))
          .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")))
          .findFirst()
          .orElse(0L);
    } catch (IOException e) {
      return 0; // it has just exited
    }
  }

  /** Restarts of the agents' containers so far, as their pods' statuses count them. */
  static int restarts(KubernetesClient k) {
    return k
        .pods()
        .inNamespace(OperatorInstall.NAMESPACE)
        .withLabel("app.kubernetes.io/name", AGENT_NAME)
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getContainerStatuses().stream())
        .mapToInt(ContainerStatus::getRestartCount)
        .sum();
  }

  /** The agent's JVM on this machine: the java process whose arguments name the agents' key. */
  private static long findAgentPid() {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(false))
        .filter(
            p ->
                p.info()
                    .arguments()
                    .map(a -> String.join(" ", a).contains("--key-file=/etc/smtp-reach/agent/"))
                    .orElse(false))
        .mapToLong(ProcessHandle::pid)
        .findFirst()
        .orElse(-1);
  }

  /** Stops the resolver; the node goes with the cluster. */
  @Override
  public void close() {
    dns.close();
  }
}
