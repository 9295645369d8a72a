package io.smtpreach.cluster;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One pod on a {@link ProcessNode}, run as a local process the way a kubelet runs its container:
 * Running with the node's address as pod IP, killed at {@code activeDeadlineSeconds}
 * (DeadlineExceeded) or when the pod is deleted, and on exit the container's termination state with
 * the termination message, then Succeeded or Failed.
 *
 * <p>Limits, on purpose: the first container only (no init containers, no sidecars); every
 * restartPolicy behaves as {@code Never}; volumes, probes and resources are ignored.
 *
 * <p>The termination message file: the process cannot write {@code /dev/termination-log}, so the
 * container's {@code terminationMessagePath} is remapped to a file under the node's work directory.
 * Every occurrence of the path in the command line and in env values is replaced by the real one,
 * and the real one is also exported as {@value #TERMINATION_MESSAGE_PATH_ENV}. At most {@value
 * #MESSAGE_LIMIT} bytes are read, like the kubelet; with {@code FallbackToLogsOnError} and an empty
 * file, a failed container's message is the tail of its output.
 */
final class PodProcess {
  static final String TERMINATION_MESSAGE_PATH_ENV = "PROCESS_NODE_TERMINATION_MESSAGE_PATH";
  static final int MESSAGE_LIMIT = 4096;
  private static final String DEFAULT_MESSAGE_PATH = "/dev/termination-log";
  private static final Logger LOG = Logger.getLogger(PodProcess.class.getName());

  /** How long a status update is tried again while the API server does not take it. */
  private static final Duration STATUS_RETRY = Duration.ofMinutes(5);

  /** How long one attempt may take. */
  private static final Duration STATUS_ATTEMPT = Duration.ofSeconds(15);

  /**
   * Runs status attempts: a thread each, since a hung attempt keeps its thread (the common pool has
   * one thread on two cores, and one hung request would block every later attempt).
   */
  private static final ExecutorService ATTEMPTS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "process-node-status");
            t.setDaemon(true);
            return t;
          });

  private final KubernetesClient client;
  private final ProcessNode.NodeConfig node;
  private final ImageMap images;
  private final ScheduledExecutorService timers;
  private final String namespace;
  private final String name;
  private final String uid;
  private final Path dir;
  private volatile Process process;
  private volatile boolean deadlineExceeded;
  private volatile boolean killed;

  PodProcess(
      KubernetesClient client,
      ProcessNode.NodeConfig node,
      ImageMap images,
      ScheduledExecutorService timers,
      Pod pod,
      Path nodeDir) {
    this.client = client;
    this.node = node;
    this.images = images;
    this.timers = timers;
    this.namespace = pod.getMetadata().getNamespace();
    this.name = pod.getMetadata().getName();
    this.uid = pod.getMetadata().getUid();
    this.dir = nodeDir.resolve("pods").resolve(namespace + "_" + name + "_" + uid);
  }

  String uid() {
    return uid;
  }

  /** Starts the container, or reports why it cannot (ErrImagePull, CreateContainerConfigError). */
  synchronized void start(Pod pod) {
    Container c = pod.getSpec().getContainers().get(0);
    Instant started = Instant.now();
    var image = images.resolve(c.getImage());
    if (image.isEmpty()) {
      waiting(c, "ErrImagePull", "no mapping for image \"" + c.getImage() + "\" on " + node.name());
      timers.schedule(
          () -> waiting(c, "ImagePullBackOff", "Back-off pulling image \"" + c.getImage() + "\""),
          10,
          TimeUnit.SECONDS);
      return;
    }
    Map<String, String> env;
    try {
      env = ContainerEnvironment.resolve(client, pod, c, node.address());
    } catch (IllegalArgumentException | KubernetesClientException e) {
      waiting(c, "CreateContainerConfigError", e.getMessage());
      return;
    }
    try {
      Files.createDirectories(dir);
      Path messageFile = dir.resolve(c.getName() + ".termination-log");
      Files.deleteIfExists(messageFile);
      Files.createFile(messageFile);
      String messagePath =
          c.getTerminationMessagePath() == null
              ? DEFAULT_MESSAGE_PATH
              : c.getTerminationMessagePath();
      String realPath = messageFile.toString();
      env.replaceAll((k, v) -> v.replace(messagePath, realPath));
      env.put(TERMINATION_MESSAGE_PATH_ENV, realPath);
      List<String> line = new ArrayList<>();
      if (node.netns() != null) {
        line.addAll(List.of("ip", "netns", "exec", node.netns().name()));
      }
      for (String word : ContainerEnvironment.expand(ImageMap.commandLine(image.get(), c), env)) {
        line.add(word.replace(messagePath, realPath));
      }
      ProcessBuilder pb = new ProcessBuilder(line);
      Map<String, String> processEnv = pb.environment();
      processEnv.clear();
      processEnv.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
      processEnv.put("HOME", System.getProperty("user.home"));
      processEnv.put("HOSTNAME", name);
      processEnv.putAll(env);
      Path log = dir.resolve(c.getName() + ".log");
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
      pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      if (c.getWorkingDir() != null && Files.isDirectory(Path.of(c.getWorkingDir()))) {
        pb.directory(new File(c.getWorkingDir()));
      } else {
        pb.directory(dir.toFile());
      }
      process = pb.start();
      running(c, started);
      Long deadline = pod.getSpec().getActiveDeadlineSeconds();
      if (deadline != null) {
        timers.schedule(this::deadline, deadline * 1000, TimeUnit.MILLISECONDS);
      }
      process
          .onExit()
          .thenRun(() -> exited(c, started, messageFile, log))
          .exceptionally(
              e -> {
                LOG.log(Level.WARNING, namespace + "/" + name + ": exit not reported", e);
                return null;
              });
    } catch (IOException e) {
      waiting(c, "RunContainerError", e.getMessage());
    }
  }

  /** The pod is being deleted: stop the process, report nothing more. */
  synchronized void kill() {
    killed = true;
    destroy();
  }

  boolean isAlive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  private void deadline() {
    if (isAlive()) {
      deadlineExceeded = true;
      destroy();
    }
  }

  private void destroy() {
    Process p = process;
    if (p == null) {
      return;
    }
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  private void exited(Container c, Instant started, Path messageFile, Path log) {
    if (killed) {
      return;
    }
    int exitCode = process.exitValue();
    String message = head(messageFile);
    if (message.isEmpty()
        && exitCode != 0
        && "FallbackToLogsOnError".equals(c.getTerminationMessagePolicy())) {
      message = tail(log);
    }
    ContainerState state =
        new ContainerStateBuilder()
            .withNewTerminated()
            .withExitCode(exitCode)
            .withReason(exitCode == 0 ? "Completed" : "Error")
            .withMessage(message.isEmpty() ? null : message)
            .withStartedAt(time(started))
            .withFinishedAt(time(Instant.now()))
            .withContainerID(containerId())
            .endTerminated()
            .build();
    boolean ok = exitCode == 0 && !deadlineExceeded;
    update(
        s -> {
          PodStatusBuilder b =
              new PodStatusBuilder(s)
                  .withPhase(ok ? "Succeeded" : "Failed")
                  .withConditions(
                      conditions(
                          s,
                          Map.of(
                              "PodReadyToStartContainers", "False",
                              "Ready", "False",
                              "ContainersReady", "False"),
                          "PodCompleted"))
                  .withContainerStatuses(containerStatus(c, state, false));
          if (deadlineExceeded) {
            b.withReason("DeadlineExceeded")
                .withMessage("Pod was active on the node longer than the specified deadline");
          }
          return b.build();
        });
  }

  private void running(Container c, Instant started) {
    ContainerState state =
        new ContainerStateBuilder()
            .withNewRunning()
            .withStartedAt(time(started))
            .endRunning()
            .build();
    update(
        s ->
            new PodStatusBuilder(s)
                .withPhase("Running")
                .withConditions(
                    conditions(
                        s,
                        Map.of(
                            "PodReadyToStartContainers", "True",
                            "Initialized", "True",
                            "Ready", "True",
                            "ContainersReady", "True"),
                        null))
                .withContainerStatuses(containerStatus(c, state, true))
                .build());
  }

  private void waiting(Container c, String reason, String message) {
    ContainerState state =
        new ContainerStateBuilder()
            .withNewWaiting()
            .withReason(reason)
            .withMessage(message)
            .endWaiting()
            .build();
    update(
        s ->
            new PodStatusBuilder(s)
                .withPhase("Pending")
                .withConditions(
                    conditions(
                        s,
                        Map.of(
                            "PodReadyToStartContainers", "True",
                            "Initialized", "True",
                            "Ready", "False",
                            "ContainersReady", "False"),
                        "ContainersNotReady"))
                .withContainerStatuses(containerStatus(c, state, false))
                .build());
  }

  private ContainerStatus containerStatus(Container c, ContainerState state, boolean ready) {
    return new ContainerStatusBuilder()
        .withName(c.getName())
        .withImage(c.getImage())
        .withImageID(state.getWaiting() == null ? c.getImage() : "")
        .withContainerID(state.getWaiting() == null ? containerId() : null)
        .withReady(ready)
        .withStarted(state.getRunning() != null)
        .withRestartCount(0)
        .withState(state)
        .build();
  }

  private String containerId() {
    return process == null ? null : "process://" + node.name() + "/" + process.pid();
  }

  /** Applies {@code change} to the pod's status, with the node's addresses and a start time. */
  private void update(UnaryOperator<PodStatus> change) {
    // Like the kubelet's status manager, keep at it while the API server is unreachable, frozen or
    // overloaded: a status lost in an outage would leave the pod Running for ever. Each attempt
    // has its own deadline: a request sent to a frozen API server was seen never to return.
    Instant giveUp = Instant.now().plus(STATUS_RETRY);
    while (!killed) {
      CompletableFuture<Void> attempt =
          CompletableFuture.runAsync(() -> ConflictRetry.run(() -> editStatus(change)), ATTEMPTS);
      try {
        attempt.get(STATUS_ATTEMPT.toSeconds(), TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (e.getCause() instanceof KubernetesClientException k && k.getCode() == 404) {
          return; // deleted meanwhile: nothing to report to
        }
        if (!transientFailure(e.getCause()) || Instant.now().isAfter(giveUp)) {
          throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
      } catch (TimeoutException e) {
        attempt.cancel(true);
        if (Instant.now().isAfter(giveUp)) {
          throw new IllegalStateException(name + ": status not taken within " + STATUS_RETRY, e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      LOG.fine(name + ": status update failed, again in 1 s");
      LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1)); // back-off between attempts
    }
  }

  /**
   * Whether a later attempt may get past it: anything but the API server's word that the request
   * itself is wrong (a 4xx other than timeout and throttling). A client-side timeout carries no
   * HTTP code at all.
   */
  private static boolean transientFailure(Throwable t) {
    if (!(t instanceof KubernetesClientException k)) {
      return true;
    }
    int code = k.getCode();
    return code < 400 || code >= 500 || code == 408 || code == 429;
  }

  private void editStatus(UnaryOperator<PodStatus> change) {
    client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .editStatus(
            p -> {
              PodStatus s = p.getStatus() == null ? new PodStatus() : p.getStatus();
              String now = time(Instant.now());
              PodStatus base =
                  new PodStatusBuilder(s)
                      .withHostIP(node.address())
                      .withHostIPs(new HostIP(node.address()))
                      .withPodIP(node.address())
                      .withPodIPs(new PodIP(node.address()))
                      .withStartTime(s.getStartTime() == null ? now : s.getStartTime())
                      .build();
              p.setStatus(change.apply(base));
              return p;
            });
  }

  private static List<PodCondition> conditions(
      PodStatus s, Map<String, String> wanted, String falseReason) {
    Map<String, PodCondition> byType = new LinkedHashMap<>();
    if (s.getConditions() != null) {
      s.getConditions().forEach(c -> byType.put(c.getType(), c));
    }
    String now = time(Instant.now());
    for (var e : new TreeMap<>(wanted).entrySet()) {
      PodCondition old = byType.get(e.getKey());
      boolean changed = old == null || !e.getValue().equals(old.getStatus());
      byType.put(
          e.getKey(),
          new PodConditionBuilder()
              .withType(e.getKey())
              .withStatus(e.getValue())
              .withReason("False".equals(e.getValue()) ? falseReason : null)
              .withLastProbeTime(null)
              .withLastTransitionTime(changed ? now : old.getLastTransitionTime())
              .build());
    }
    return new ArrayList<>(byType.values());
  }

  private static String head(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readNBytes(MESSAGE_LIMIT), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static String tail(Path file) {
    try {
      byte[] all = Files.readAllBytes(file);
      return new String(
          Arrays.copyOfRange(all, Math.max(0, all.length - MESSAGE_LIMIT), all.length),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String time(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
