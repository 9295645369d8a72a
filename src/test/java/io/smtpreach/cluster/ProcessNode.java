package io.smtpreach.cluster;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.NodeStatus;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.smtpreach.peers.NetworkNamespace;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Kubernetes node without a container runtime: it registers a Node (labels, capacity, Ready),
 * keeps it alive through a Lease in {@code kube-node-lease} and status heartbeats, and acts as its
 * kubelet, running each pod the scheduler binds to it as a local {@link PodProcess} inside the
 * node's network namespace when it has one. Deleting a pod kills its process and completes the
 * deletion, as the kubelet does.
 */
public final class ProcessNode implements AutoCloseable {
  /** Label on every process node. */
  public static final String PROCESS_NODE_LABEL = "smtpreach.io/process-node";

  /** Label naming the node's pool, for nodeSelectors. */
  public static final String POOL_LABEL = "smtpreach.io/node-pool";

  private static final Logger LOG = Logger.getLogger(ProcessNode.class.getName());
  private static final int HEARTBEAT_SECONDS = 10;

  /**
   * A node's identity: its name, zone and pool, and the network namespace its pods run in (null:
   * this machine's network, address 127.0.0.1).
   */
  public record NodeConfig(String name, String zone, String pool, NetworkNamespace netns) {
    public String address() {
      return netns == null ? "127.0.0.1" : netns.address();
    }
  }

  private final KubernetesClient client;
  private final NodeConfig config;
  private final ImageMap images;
  private final Path dir;
  private final Map<String, PodProcess> pods = new ConcurrentHashMap<>();
  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(1);
  private SharedIndexInformer<Pod> informer;

  private ProcessNode(KubernetesClient client, NodeConfig config, ImageMap images, Path dir) {
    this.client = client;
    this.config = config;
    this.images = images;
    this.dir = dir;
  }

  /** Registers the node and starts running the pods bound to it; pod files go under {@code dir}. */
  public static ProcessNode start(
      KubernetesClient client, NodeConfig config, ImageMap images, Path dir) {
    ProcessNode node = new ProcessNode(client, config, images, dir.resolve(config.name()));
    node.register();
    node.informer =
        client
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", config.name())
            .inform(node.new PodHandler(), 0);
    node.timers.scheduleWithFixedDelay(
        node::heartbeat, HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
    return node;
  }

  public NodeConfig config() {
    return config;
  }

  public String name() {
    return config.name();
  }

  /** Whether a process for the pod with this uid is running on this node. */
  public boolean runs(String podUid) {
    PodProcess p = pods.get(podUid);
    return p != null && p.isAlive();
  }

  private void register() {
    Node existing = client.nodes().withName(name()).get();
    if (existing != null) { // left over from an earlier run
      client.nodes().withName(name()).withGracePeriod(0).delete();
    }
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name())
            .withLabels(
                Map.of(
                    "kubernetes.io/hostname",
                    name(),
                    "kubernetes.io/os",
                    "linux",
                    "kubernetes.io/arch",
                    "amd64",
                    "topology.kubernetes.io/zone",
                    config.zone(),
                    POOL_LABEL,
                    config.pool(),
                    PROCESS_NODE_LABEL,
                    "true"))
            .endMetadata()
            .withNewSpec()
            .endSpec()
            .withStatus(status(null))
            .build();
    Node created = client.nodes().resource(node).create();
    updateStatus();
    Lease lease =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(name())
            .withNamespace("kube-node-lease")
            .addNewOwnerReference()
            .withApiVersion("v1")
            .withKind("Node")
            .withName(name())
            .withUid(created.getMetadata().getUid())
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(name())
            .withLeaseDurationSeconds(40)
            .withRenewTime(now())
            .endSpec()
            .build();
    client.leases().inNamespace("kube-node-lease").resource(lease).createOr(l -> l.update());
  }

  private void updateStatus() {
    ConflictRetry.run(
        () ->
            client.nodes().withName(name()).editStatus(n -> withStatus(n, status(n.getStatus()))));
  }

  private static Node withStatus(Node n, NodeStatus s) {
    n.setStatus(s);
    return n;
  }

  private NodeStatus status(NodeStatus old) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Map<String, Quantity> capacity =
        Map.of(
            "cpu", new Quantity("4"), "memory", new Quantity("8Gi"), "pods", new Quantity("110"));
    return new NodeStatusBuilder()
        .withCapacity(capacity)
        .withAllocatable(capacity)
        .withConditions(
            condition(old, "MemoryPressure", "False", "KubeletHasSufficientMemory", now),
            condition(old, "DiskPressure", "False", "KubeletHasNoDiskPressure", now),
            condition(old, "PIDPressure", "False", "KubeletHasSufficientPID", now),
            condition(old, "Ready", "True", "KubeletReady", now))
        .addNewAddress()
        .withType("InternalIP")
        .withAddress(config.address())
        .endAddress()
        .addNewAddress()
        .withType("Hostname")
        .withAddress(name())
        .endAddress()
        .withNewNodeInfo()
        .withArchitecture("amd64")
        .withOperatingSystem("linux")
        .withOsImage("smtp-reach process node")
        .withKernelVersion(System.getProperty("os.version"))
        .withKubeletVersion("v1.37.2")
        .withContainerRuntimeVersion("process://")
        .withMachineID("")
        .withSystemUUID("")
        .withBootID("")
        .withKubeProxyVersion("")
        .endNodeInfo()
        .build();
  }

  private static NodeCondition condition(
      NodeStatus old, String type, String status, String reason, String now) {
    String since = now;
    if (old != null && old.getConditions() != null) {
      for (NodeCondition c : old.getConditions()) {
        if (c.getType().equals(type) && status.equals(c.getStatus())) {
          since = c.getLastTransitionTime() == null ? now : c.getLastTransitionTime();
        }
      }
    }
    return new NodeConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withLastHeartbeatTime(now)
        .withLastTransitionTime(since)
        .build();
  }

  private static ZonedDateTime now() {
    return ZonedDateTime.now(ZoneOffset.UTC);
  }

  private void heartbeat() {
    try {
      ConflictRetry.run(
          () ->
              client
                  .leases()
                  .inNamespace("kube-node-lease")
                  .withName(name())
                  .edit(
                      l -> new LeaseBuilder(l).editSpec().withRenewTime(now()).endSpec().build()));
      updateStatus();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, name() + ": heartbeat failed", e);
    }
  }

  /** Runs new pods, kills deleted ones; on a single thread so a pod's events stay in order. */
  private final class PodHandler implements ResourceEventHandler<Pod> {
    @Override
    public void onAdd(Pod pod) {
      worker.execute(() -> sync(pod));
    }

    @Override
    public void onUpdate(Pod old, Pod pod) {
      worker.execute(() -> sync(pod));
    }

    @Override
    public void onDelete(Pod pod, boolean finalStateUnknown) {
      worker.execute(
          () -> {
            PodProcess p = pods.remove(pod.getMetadata().getUid());
            if (p != null) {
              p.kill();
            }
          });
    }
  }

  private void sync(Pod pod) {
    try {
      String uid = pod.getMetadata().getUid();
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        PodProcess p = pods.remove(uid);
        if (p != null) {
          p.kill();
        }
        // The kubelet's part of a graceful deletion: containers gone, remove the object.
        client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .withGracePeriod(0)
            .delete();
        return;
      }
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if (pods.containsKey(uid) || "Succeeded".equals(phase) || "Failed".equals(phase)) {
        return;
      }
      PodProcess p = new PodProcess(client, config, images, timers, pod, dir);
      pods.put(uid, p);
      p.start(pod);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, name() + ": pod " + pod.getMetadata().getName(), e);
    }
  }

  /** Stops watching, kills every pod's process and deletes the Node (its Lease goes with it). */
  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    timers.shutdownNow();
    worker.shutdownNow();
    pods.values().forEach(PodProcess::kill);
    pods.clear();
    try {
      client.nodes().withName(name()).withGracePeriod(0).delete();
      client.leases().inNamespace("kube-node-lease").withName(name()).delete();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, name() + ": cleanup", e);
    }
  }
}
