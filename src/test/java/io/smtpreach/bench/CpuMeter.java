package io.smtpreach.bench;

import io.smtpreach.cluster.RealNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * CPU spent by a real node's parts and the control plane while some work runs: the pods (the node's
 * cpuacct cgroup), the kubelet and containerd (their processes and the children they reaped:
 * iptables, the CNI plugins), the shims with the runc they reaped (sampled while they live: they
 * are daemons, nobody reaps them into a counter), and etcd, the API server, controller-manager and
 * scheduler.
 */
final class CpuMeter {
  private static final long TICK_MS = 10; // USER_HZ 100 on Linux
  private static final List<String> CONTROL_PLANE =
      List.of("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler");

  private final Path clusterDir;
  private final RealNode node;

  CpuMeter(Path clusterDir, RealNode node) {
    this.clusterDir = clusterDir;
    this.node = node;
  }

  /** CPU in ms by part while {@code work} ran, and how long it ran. */
  record Sample(
      long wallMs,
      double containerMs,
      double kubeletMs,
      double containerdMs,
      double shimsMs,
      double controlPlaneMs) {
    double totalMs() {
      return containerMs + kubeletMs + containerdMs + shimsMs + controlPlaneMs;
    }

    /** This sample less what {@code idle} spent per ms, over this sample's wall time. */
    Sample minusIdle(Sample idle) {
      double f = wallMs / (double) idle.wallMs;
      return new Sample(
          wallMs,
          containerMs - idle.containerMs * f,
          kubeletMs - idle.kubeletMs * f,
          containerdMs - idle.containerdMs * f,
          shimsMs - idle.shimsMs * f,
          controlPlaneMs - idle.controlPlaneMs * f);
    }
  }

  Sample measure(Runnable work) {
    Map<Long, Long> shims = new ConcurrentHashMap<>();
    Thread sampler = new Thread(() -> sampleShims(shims), "shim-sampler");
    sampler.setDaemon(true);
    sampleShimsOnce(shims);
    Map<Long, Long> shimsBefore = Map.copyOf(shims);
    long container = containerNs();
    long kubelet = processCpuMs(pid(node.dir(), "kubelet"));
    long containerd = processCpuMs(pid(node.dir(), "containerd"));
    long controlPlane = controlPlaneMs();
    long start = System.nanoTime();
    sampler.start();
    try {
      work.run();
    } finally {
      sampler.interrupt();
    }
    try {
      sampler.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sampleShimsOnce(shims);
    long shimMs = 0;
    for (var e : shims.entrySet()) {
      shimMs += e.getValue() - shimsBefore.getOrDefault(e.getKey(), 0L);
    }
    double containerMs = (containerNs() - container) / 1e6;
    // A shim reaps its pod's processes and runc: their CPU is in its cutime and cstime too. Less
    // the pods' own (their cgroup), what is left is the shims' and runc's.
    return new Sample(
        (System.nanoTime() - start) / 1_000_000,
        containerMs,
        processCpuMs(pid(node.dir(), "kubelet")) - kubelet,
        processCpuMs(pid(node.dir(), "containerd")) - containerd,
        Math.max(0, shimMs - containerMs),
        controlPlaneMs() - controlPlane);
  }

  /** utime + stime + cutime + cstime of {@code pid}, in ms; 0 once it is gone. */
  static long processCpuMs(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which is in parentheses and may hold spaces.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // utime, stime, cutime, cstime are fields 14-17 of the whole line: 11-14 from here (0-based).
      return (Long.parseLong(f[11])
              + Long.parseLong(f[12])
              + Long.parseLong(f[13])
              + Long.parseLong(f[14]))
          * TICK_MS;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private long controlPlaneMs() {
    long sum = 0;
    for (String c : CONTROL_PLANE) {
      sum += processCpuMs(pid(clusterDir, c));
    }
    return sum;
  }

  private long containerNs() {
    return podsCpuNs(node);
  }

  /** CPU all pods of {@code node} spent so far (its cpuacct cgroup), in ns. */
  static long podsCpuNs(RealNode node) {
    Path usage = Path.of("/sys/fs/cgroup/cpuacct", "smtp-reach-" + node.name(), "cpuacct.usage");
    try {
      return Long.parseLong(Files.readString(usage).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static long pid(Path dir, String process) {
    try {
      return Long.parseLong(Files.readString(dir.resolve(process + ".pid")).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void sampleShims(Map<Long, Long> shims) {
    while (!Thread.currentThread().isInterrupted()) {
      sampleShimsOnce(shims);
      try {
        Thread.sleep(50); // a sampling period, not a wait for anything
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /**
   * The real nodes' shims: containerd-shim processes of a containerd under /run/smtp-reach-nodes.
   */
  private static void sampleShimsOnce(Map<Long, Long> shims) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      procs
          .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
          .forEach(
              p -> {
                try {
                  String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                  if (cmd.contains("containerd-shim") && cmd.contains("/run/smtp-reach-nodes/")) {
                    long pid = Long.parseLong(p.getFileName().toString());
                    shims.merge(pid, processCpuMs(pid), Math::max);
                  }
                } catch (IOException | RuntimeException e) {
                  // gone meanwhile
                }
              });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
