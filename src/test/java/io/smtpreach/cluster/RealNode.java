package io.smtpreach.cluster;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real Kubernetes node for a {@link LocalCluster}: the kubelet built from the control plane's own
 * module and a containerd of its own, started and stopped by {@code hack/real-node.sh}, whose
 * header says everything it changes on this machine and how {@code down} undoes it. Unlike a {@link
 * ProcessNode}, pods here are containers: images are imported from archives ({@link #importImage}),
 * pods get an address on the node's bridge (198.18.N.0/24, the node's own address 198.18.N.1 is
 * their gateway and only nameserver), and their egress stops at this machine. Tests add rules to
 * the node's own iptables chain ({@link #addEgressRule}) to firewall one zone.
 *
 * <p>Two images are always there: the pause image and {@link #busyboxImage()}; pods must use {@code
 * imagePullPolicy: Never} or {@code IfNotPresent} with imported images, as nothing can be pulled.
 */
public final class RealNode implements AutoCloseable {
  /** Label on every real node. */
  public static final String REAL_NODE_LABEL = "smtpreach.io/real-node";

  private static final long UP_TIMEOUT_SECONDS = 45 * 60; // may build the kubelet first
  private static final Pattern READY = Pattern.compile("Ready (\\d+)s after the kubelet started");

  /**
   * A node's name, zone and subnet number N (100-199): pods on 198.18.N.0/24, node address
   * 198.18.N.1.
   */
  public record Config(String name, String zone, int subnet) {
    public Config {
      if (subnet < 100 || subnet > 199) {
        throw new IllegalArgumentException("subnet must be 100-199, not " + subnet);
      }
    }

    /** The node's InternalIP and its pods' gateway and nameserver. */
    public String address() {
      return "198.18." + subnet + ".1";
    }

    public String podCidr() {
      return "198.18." + subnet + ".0/24";
    }
  }

  /** Resident memory of the node's own processes, in KiB. */
  public record Memory(long kubeletKiB, long containerdKiB, long shimsKiB) {}

  private final Path clusterDir;
  private final Config config;
  private final Duration startup;
  private final Duration kubeletToReady;
  private boolean closed;

  private RealNode(Path clusterDir, Config config, Duration startup, Duration kubeletToReady) {
    this.clusterDir = clusterDir;
    this.config = config;
    this.startup = startup;
    this.kubeletToReady = kubeletToReady;
  }

  /**
   * Skips (or under {@code SMTP_REACH_REQUIRE_ALL=1} fails) unless a real node can run here, naming
   * what is missing: root, containerd, runc, the CNI plugins, cgroup v1, the kubelet or Go, ...
   */
  public static void requireSupport() {
    Requirements.require(Requirements.isRoot(), "a real node needs root");
    var r = ProcessRunner.run(List.of(script(), "check"), 60);
    Requirements.require(
        r.exitCode() == 0,
        "this machine lacks what a real node needs (hack/install-deps.sh installs it): "
            + r.output().strip().replace('\n', ';'));
  }

  /** Starts the node for the cluster in {@code clusterDir} and waits until it is Ready. */
  static RealNode start(Path clusterDir, Config config) {
    long t0 = System.nanoTime();
    var r =
        ProcessRunner.run(
                List.of(
                    script(),
                    "up",
                    clusterDir.toString(),
                    config.name(),
                    "--zone",
                    config.zone(),
                    "--subnet",
                    Integer.toString(config.subnet())),
                UP_TIMEOUT_SECONDS)
            .orThrow("hack/real-node.sh up " + config.name());
    Duration startup = Duration.ofNanos(System.nanoTime() - t0);
    Matcher m = READY.matcher(r.output());
    Duration ready = m.find() ? Duration.ofSeconds(Long.parseLong(m.group(1))) : null;
    return new RealNode(clusterDir, config, startup, ready);
  }

  /** The archive of the busybox image every real node has: a shell, nc, nslookup, wget. */
  public static String busyboxImage() {
    for (String path : images()) {
      String file = Path.of(path).getFileName().toString();
      if (file.startsWith("busybox-")) {
        return "localhost/smtp-reach/busybox:"
            + file.substring("busybox-".length(), file.length() - ".tar".length());
      }
    }
    throw new IllegalStateException("hack/real-node.sh images built no busybox archive");
  }

  private static List<String> images() {
    return ProcessRunner.run(List.of(script(), "images"), 300)
        .orThrow("hack/real-node.sh images")
        .output()
        .lines()
        .filter(l -> l.endsWith(".tar"))
        .toList();
  }

  public Config config() {
    return config;
  }

  public String name() {
    return config.name();
  }

  /** From {@code up} to Ready: containerd, image import, certificates, kubelet. */
  public Duration startup() {
    return startup;
  }

  /** From the kubelet's start to the Node's Ready condition (whole seconds), if it was reported. */
  public Duration kubeletToReady() {
    return kubeletToReady;
  }

  /** The node's files: logs, configuration, containerd's and the kubelet's directories. */
  public Path dir() {
    return clusterDir.resolve("real-nodes").resolve(config.name());
  }

  /**
   * Imports an OCI or {@code docker save} archive into the node's containerd, where the kubelet
   * finds it; returns the image names it held.
   */
  public List<String> importImage(Path archive) {
    return ProcessRunner.run(
            List.of(script(), "import", clusterDir.toString(), config.name(), archive.toString()),
            600)
        .orThrow("import " + archive + " into " + name())
        .output()
        .lines()
        .filter(l -> !l.isBlank() && !l.startsWith("real-node"))
        .toList();
  }

  /** The node's iptables chain for its pods' traffic, to this machine and beyond. */
  public String egressChain() {
    return "SRN" + config.subnet() + "-RULES";
  }

  /**
   * Appends a rule to {@link #egressChain()}, e.g. {@code -p tcp --dport 587 -j DROP} for a zone
   * whose 587 is blocked.
   */
  public void addEgressRule(String... rule) {
    List<String> cmd = new ArrayList<>(List.of("iptables", "-A", egressChain()));
    cmd.addAll(List.of(rule));
    ProcessRunner.run(cmd, 30).orThrow(String.join(" ", cmd));
  }

  /** Removes every rule tests added. */
  public void clearEgressRules() {
    ProcessRunner.run(List.of("iptables", "-F", egressChain()), 30).orThrow("iptables -F");
  }

  /**
   * Packets from this node's pods that the fence rejected: everything not bound for this machine or
   * the project's own namespaces. They never left the machine.
   */
  public long rejectedPackets() {
    String chain = "SRN" + config.subnet() + "-EGRESS";
    String out =
        ProcessRunner.run(List.of("iptables", "-L", chain, "-v", "-x", "-n"), 30)
            .orThrow("iptables -L " + chain)
            .output();
    return out.lines()
        .map(String::strip)
        .filter(l -> l.contains("REJECT"))
        .mapToLong(l -> Long.parseLong(l.split("\\s+")[0]))
        .sum();
  }

  /** Resident memory of the kubelet, containerd and the node's shims now. */
  public Memory memory() {
    long shims = 0;
    String sock = dir().resolve("run/containerd.sock").toString();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        if (p.getFileName().toString().matches("\\d+")) {
          String cmdline = read(p.resolve("cmdline")).replace('\0', ' ');
          if (cmdline.contains("containerd-shim") && cmdline.contains(sock + " ")) {
            shims += rssKiB(p);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Memory(rssKiB(pidDir("kubelet")), rssKiB(pidDir("containerd")), shims);
  }

  private Path pidDir(String process) {
    return Path.of("/proc", read(dir().resolve(process + ".pid")).strip());
  }

  private static long rssKiB(Path proc) {
    return read(proc.resolve("status"))
        .lines()
        .filter(l -> l.startsWith("VmRSS:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", "")))
        .findFirst()
        .orElse(0);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Stops the node and restores the host ({@code hack/real-node.sh down}); the last node of this
   * machine to stop also checks the host against its state before the first one started. Returns
   * what the script said; its exit code is not 0 when the host is not as before.
   */
  public synchronized ProcessRunner.Result stop() {
    closed = true;
    return ProcessRunner.run(List.of(script(), "down", clusterDir.toString(), config.name()), 300);
  }

  /** Stops the node; fails when the host could not be restored. */
  @Override
  public synchronized void close() {
    if (!closed) {
      stop().orThrow("hack/real-node.sh down " + name());
    }
  }

  private static String script() {
    return ProjectPaths.hack("real-node.sh").toString();
  }
}
