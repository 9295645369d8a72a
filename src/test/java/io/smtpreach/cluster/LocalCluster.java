package io.smtpreach.cluster;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.awaitility.Awaitility;

/**
 * A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
 * on this machine, started by {@code hack/local-cluster.sh} in a directory, with the clients and
 * namespaces a test needs. Nodes are {@link ProcessNode}s started through {@link #startNode}, or
 * {@link RealNode}s (kubelet and containerd) through {@link #startRealNode}.
 */
public final class LocalCluster implements AutoCloseable {
  private static final long START_TIMEOUT_SECONDS = 45 * 60; // a cold build of the binaries

  private final Path dir;
  private final KubernetesRelease release;
  private final KubernetesClient client;
  private final List<ProcessNode> nodes = new ArrayList<>();
  private final List<RealNode> realNodes = new ArrayList<>();

  private LocalCluster(Path dir, KubernetesRelease release, KubernetesClient client) {
    this.dir = dir;
    this.release = release;
    this.client = client;
  }

  /**
   * Skips (or under {@code SMTP_REACH_REQUIRE_ALL=1} fails) unless a cluster can run here: root
   * (process nodes use network namespaces), openssl and curl, and the binaries built or a Go
   * toolchain to build them.
   */
  public static void requireSupport() {
    requireSupport(KubernetesRelease.NEWEST);
  }

  /** {@link #requireSupport()} for a control plane at {@code release}. */
  public static void requireSupport(KubernetesRelease release) {
    Requirements.require(Requirements.isRoot(), "the local cluster's process nodes need root");
    Requirements.require(Requirements.onPath("openssl"), "openssl is not installed");
    Requirements.require(Requirements.onPath("curl"), "curl is not installed");
    Requirements.require(
        binariesBuilt(release) || Requirements.onPath("go"),
        "the control-plane binaries are not built and there is no go to build them"
            + " (hack/control-plane.sh build)");
  }

  private static boolean binariesBuilt(KubernetesRelease release) {
    Path bin = binDir(release);
    return Stream.of(
            "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
        .allMatch(b -> Files.isExecutable(bin.resolve(b)));
  }

  /**
   * Starts a cluster in {@code dir} (building the binaries first if they are not cached); one left
   * running there by a killed run is stopped first.
   */
  public static LocalCluster start(Path dir) {
    return start(dir, KubernetesRelease.NEWEST);
  }

  /** {@link #start(Path)} with the control plane at {@code release}. */
  public static LocalCluster start(Path dir, KubernetesRelease release) {
    Path script = ProjectPaths.hack("local-cluster.sh");
    ProcessRunner.run(List.of(script.toString(), "down", dir.toString()), 120);
    ProcessRunner.run(
            List.of(script.toString(), "up", dir.toString()),
            START_TIMEOUT_SECONDS,
            release.environment())
        .orThrow("hack/local-cluster.sh up " + dir);
    try {
      return new LocalCluster(
          dir.toAbsolutePath(), release, clientFor(dir.resolve("admin.kubeconfig")));
    } catch (RuntimeException e) {
      ProcessRunner.run(List.of(script.toString(), "down", dir.toString()), 120);
      throw e;
    }
  }

  /** A client authenticated by the given kubeconfig (for example one of {@link #kubeconfigFor}). */
  public static KubernetesClient clientFor(Path kubeconfig) {
    try {
      return new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The control plane's bin directory (hack/control-plane.sh bin-dir) for {@code release}. */
  static Path binDir(KubernetesRelease release) {
    return Path.of(
        ProcessRunner.run(
                List.of(ProjectPaths.hack("control-plane.sh").toString(), "bin-dir"),
                30,
                release.environment())
            .orThrow("hack/control-plane.sh bin-dir")
            .output()
            .strip());
  }

  /** Runs the control plane's kubectl as cluster admin. */
  public ProcessRunner.Result kubectl(String... args) {
    List<String> command = new ArrayList<>();
    command.add(binDir(release).resolve("kubectl").toString());
    command.add("--kubeconfig");
    command.add(kubeconfig().toString());
    command.addAll(List.of(args));
    return ProcessRunner.run(command, 120);
  }

  /** A cluster-admin client (group system:masters). */
  public KubernetesClient client() {
    return client;
  }

  /** The cluster-admin kubeconfig. */
  public Path kubeconfig() {
    return dir.resolve("admin.kubeconfig");
  }

  public Path dir() {
    return dir;
  }

  /**
   * A kubeconfig that authenticates as {@code serviceAccount} in {@code namespace} with a one-hour
   * token from the TokenRequest API, so code run with it has exactly that account's RBAC.
   */
  public Path kubeconfigFor(String namespace, String serviceAccount) {
    var request =
        new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build();
    String token =
        client
            .serviceAccounts()
            .inNamespace(namespace)
            .withName(serviceAccount)
            .tokenRequest(request)
            .getStatus()
            .getToken();
    String server = client.getConfiguration().getMasterUrl();
    String kubeconfig =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: local
          cluster:
            server: %s
            certificate-authority: %s
        users:
        - name: %s
          user:
            token: %s
        contexts:
        - name: local
          context:
            cluster: local
            user: %s
            namespace: %s
        current-context: local
        """
            .formatted(
                server,
                dir.resolve("pki/ca.crt"),
                serviceAccount,
                token,
                serviceAccount,
                namespace);
    try {
      Path file =
          dir.resolve("kubeconfigs").resolve(namespace + "." + serviceAccount + ".kubeconfig");
      Files.createDirectories(file.getParent());
      Files.writeString(file, kubeconfig);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Creates a namespace with a fresh name and waits for its {@code default} ServiceAccount (pods
   * cannot be created before the serviceaccount controller made it).
   */
  public String createNamespace() {
    String name = "t-" + UUID.randomUUID().toString().substring(0, 8);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
    Awaitility.await("default ServiceAccount in " + name)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> client.serviceAccounts().inNamespace(name).withName("default").get() != null);
    return name;
  }

  /** Registers a process node; it stops with the cluster. */
  public synchronized ProcessNode startNode(ProcessNode.NodeConfig config, ImageMap images) {
    ProcessNode node = ProcessNode.start(client, config, images, dir.resolve("nodes"));
    nodes.add(node);
    return node;
  }

  /**
   * Starts a real node (see {@link RealNode#requireSupport()} first) and waits until it is Ready;
   * it stops with the cluster unless stopped before.
   */
  public synchronized RealNode startRealNode(RealNode.Config config) {
    RealNode node = RealNode.start(dir, config);
    realNodes.add(node);
    return node;
  }

  /**
   * Freezes the API server (SIGSTOP) for {@code outage}: it answers nothing, as behind a network
   * partition; then lets it run on (SIGCONT, also when interrupted).
   */
  public void freezeApiServer(Duration outage) {
    String pid;
    try {
      pid = Files.readString(dir.resolve("kube-apiserver.pid")).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    signal("STOP", pid);
    try {
      Awaitility.await("the outage")
          .pollDelay(outage)
          .atMost(outage.plusSeconds(5))
          .until(() -> true);
    } finally {
      signal("CONT", pid);
    }
  }

  private static void signal(String signal, String pid) {
    ProcessRunner.run(List.of("kill", "-" + signal, pid), 10)
        .orThrow("kill -" + signal + " " + pid);
  }

  /** Stops the nodes and the control plane. */
  @Override
  public void close() {
    close(null);
  }

  /**
   * Stops the nodes and the control plane; when {@code keepLogsIn} is not null, first copies every
   * component's log and every pod's output there.
   */
  public synchronized void close(Path keepLogsIn) {
    nodes.forEach(ProcessNode::close);
    nodes.clear();
    RuntimeException failure = null;
    for (int i = realNodes.size() - 1; i >= 0; i--) {
      try {
        realNodes.get(i).close();
      } catch (RuntimeException e) {
        failure = failure == null ? e : failure;
      }
    }
    realNodes.clear();
    client.close();
    ProcessRunner.run(
        List.of(ProjectPaths.hack("local-cluster.sh").toString(), "down", dir.toString()), 120);
    if (keepLogsIn != null) {
      copyLogs(keepLogsIn);
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void copyLogs(Path target) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        String n = f.getFileName().toString();
        if (n.endsWith(".log") || n.endsWith(".termination-log")) {
          Path to = target.resolve(dir.relativize(f));
          Files.createDirectories(to.getParent());
          Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
