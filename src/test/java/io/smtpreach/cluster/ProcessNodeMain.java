package io.smtpreach.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.peers.Requirements;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Two process nodes for a cluster started by hand ({@code make cluster-up}): {@code node-a} in
 * zone-a on this machine's network, and {@code node-b} in zone-b inside network namespace {@code
 * smtp-reach-test-}{@value #SUBNET} (198.18.{@value #SUBNET}.2; without root it stays on this
 * machine's network). Runs until SIGTERM, then deletes both Nodes and the namespace.
 *
 * <p>Usage: {@code ProcessNodeMain KUBECONFIG WORK_DIR}
 */
public final class ProcessNodeMain {
  static final int SUBNET = 92;

  private ProcessNodeMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length != 2) {
      System.err.println("usage: ProcessNodeMain KUBECONFIG WORK_DIR");
      System.exit(2);
    }
    KubernetesClient client = LocalCluster.clientFor(Path.of(args[0]));
    Path dir = Path.of(args[1]);
    ImageMap images = ImageMap.standard();
    NetworkNamespace netns = null;
    if (Requirements.isRoot()) {
      netns = NetworkNamespace.create(SUBNET);
    } else {
      System.err.println("not root: node-b runs on this machine's network, not in a namespace");
    }
    ProcessNode a =
        ProcessNode.start(
            client, new ProcessNode.NodeConfig("node-a", "zone-a", "default", null), images, dir);
    ProcessNode b =
        ProcessNode.start(
            client, new ProcessNode.NodeConfig("node-b", "zone-b", "egress", netns), images, dir);
    System.err.println("process nodes node-a (zone-a) and node-b (zone-b) registered");
    CountDownLatch stopped = new CountDownLatch(1);
    NetworkNamespace ns = netns;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  a.close();
                  b.close();
                  if (ns != null) {
                    ns.close();
                  }
                  client.close();
                  stopped.countDown();
                }));
    stopped.await();
  }
}
