package io.smtpreach.cluster;

import io.smtpreach.peers.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a real node may change on this machine, as seen from outside it: the sysctls the kubelet and
 * the CNI bridge write, the iptables rules, the mount table, the network interfaces and the
 * top-level cgroups of every hierarchy. Two captures are equal when a node left nothing behind.
 */
public record HostState(
    Map<String, String> sysctls,
    List<String> iptables,
    List<String> ip6tables,
    List<String> mounts,
    List<String> links,
    List<String> cgroups) {

  private static final List<String> SYSCTLS =
      List.of(
          "vm.overcommit_memory",
          "vm.panic_on_oom",
          "kernel.panic",
          "kernel.panic_on_oops",
          "kernel.keys.root_maxkeys",
          "kernel.keys.root_maxbytes",
          "net.ipv4.ip_forward");

  public static HostState capture() {
    Map<String, String> sysctls = new TreeMap<>();
    for (String key : SYSCTLS) {
      sysctls.put(key, ProcessRunner.run("sysctl", "-n", key).output().strip());
    }
    return new HostState(
        sysctls,
        rules("iptables-save"),
        rules("ip6tables-save"),
        lines("findmnt", "-rn", "-o", "TARGET,FSTYPE"),
        lines("ip", "-o", "link", "show").stream()
            .map(l -> l.split(": ")[1].replaceAll("@.*", ""))
            .sorted()
            .toList(),
        cgroupDirs());
  }

  /** The rules without counters and comment lines: equal text, equal rules. */
  private static List<String> rules(String save) {
    return lines(save).stream()
        .filter(l -> !l.startsWith("#"))
        .map(l -> l.replaceAll("\\[\\d+:\\d+\\]$", "[0:0]"))
        .toList();
  }

  private static List<String> lines(String... command) {
    return ProcessRunner.run(List.of(command), 60)
        .orThrow(String.join(" ", command))
        .output()
        .lines()
        .sorted()
        .toList();
  }

  private static List<String> cgroupDirs() {
    try (Stream<String> mounts = Files.lines(Path.of("/proc/self/mounts"))) {
      List<Path> hierarchies =
          mounts
              .map(l -> l.split(" "))
              .filter(f -> f[2].equals("cgroup"))
              .map(f -> Path.of(f[1]))
              .toList();
      return hierarchies.stream()
          .flatMap(HostState::subdirectories)
          .map(Path::toString)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Stream<Path> subdirectories(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).toList().stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
