package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.MalformedReportException;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads what a probe pod says for one of its endpoints: still going, its report from the pod's
 * termination message, or why the probe could not run. A pod that fails to start is a probe
 * failure, never a port state.
 */
public final class ProbePodReader {
  /** Waiting reasons that will not go away by waiting. */
  private static final Set<String> IMAGE_FAILURES =
      Set.of("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull");

  private static final Set<String> CONFIG_FAILURES =
      Set.of("CreateContainerConfigError", "CreateContainerError", "RunContainerError");

  /** A pod still pending or running, to be looked at again by {@code deadline}. */
  public record InProgress(Instant deadline) {}

  private final Duration startTimeout;

  public ProbePodReader(Duration startTimeout) {
    this.startTimeout = startTimeout;
  }

  /**
   * The pod's outcome for endpoint {@code member}, or empty while it may still produce one.
   *
   * @param runDeadline how long the pod may run once started (its activeDeadlineSeconds)
   * @param watchingSince when this operator process began to watch pods: a pod's time-based
   *     verdicts (not started, still running) count from then at the earliest, since what it saw of
   *     the pod before may be stale (an API outage; a new leader)
   */
  public Optional<SourceOutcome> read(
      Pod pod, String member, Duration runDeadline, Instant now, Instant watchingSince) {
    String source = source(pod);
    String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    ContainerStatus container = container(pod);
    ContainerStateTerminated terminated = terminated(pod);

    if (terminated != null || "Succeeded".equals(phase) || "Failed".equals(phase)) {
      return Optional.of(finished(pod, member, source, node, terminated));
    }
    Instant created =
        latest(Instant.parse(pod.getMetadata().getCreationTimestamp()), watchingSince);
    ContainerStateWaiting waiting =
        container == null || container.getState() == null
            ? null
            : container.getState().getWaiting();
    if (waiting != null && IMAGE_FAILURES.contains(waiting.getReason())) {
      return failed(source, node, ProbeRunFailure.ImagePullFailed, waiting);
    }
    if (waiting != null && CONFIG_FAILURES.contains(waiting.getReason())) {
      return failed(source, node, ProbeRunFailure.ProbeMisconfigured, waiting);
    }
    if (!"Running".equals(phase)) {
      if (now.isBefore(created.plus(startTimeout))) {
        return Optional.empty();
      }
      Optional<PodCondition> unschedulable = condition(pod, "PodScheduled", "False");
      if (unschedulable.isPresent()) {
        return Optional.of(
            SourceOutcome.failed(
                source,
                node,
                ProbeRunFailure.PodUnschedulable,
                message(unschedulable.get().getMessage())));
      }
      return Optional.of(
          SourceOutcome.failed(
              source,
              node,
              ProbeRunFailure.ProbeNotStarted,
              "pending for more than "
                  + startTimeout.toSeconds()
                  + "s"
                  + (waiting == null ? "" : ": " + waiting.getReason())));
    }
    // Running: the kubelet enforces activeDeadlineSeconds; this catches a node that does not.
    Instant started =
        pod.getStatus().getStartTime() == null
            ? created
            : latest(Instant.parse(pod.getStatus().getStartTime()), watchingSince);
    if (now.isAfter(started.plus(runDeadline).plusSeconds(30))) {
      return Optional.of(
          SourceOutcome.failed(
              source,
              node,
              ProbeRunFailure.ProbeTimedOut,
              "still running " + runDeadline.toSeconds() + "s after it started"));
    }
    return Optional.empty();
  }

  /**
   * Whether the pod says something {@link #read} acts on at once: it ended, or it cannot start.
   * Only such pod events wake the endpoint. The others (scheduled, created, running, being deleted)
   * change nothing that the endpoint's timed recheck would not see, and at 1,000 endpoints they
   * were most of the operator's reconciles (docs/benchmarks.md).
   */
  public static boolean settled(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    ContainerStatus container = container(pod);
    var state = container == null ? null : container.getState();
    String waiting =
        state == null || state.getWaiting() == null ? null : state.getWaiting().getReason();
    return "Succeeded".equals(phase)
        || "Failed".equals(phase)
        || (state != null && state.getTerminated() != null)
        || (waiting != null
            && (IMAGE_FAILURES.contains(waiting) || CONFIG_FAILURES.contains(waiting)));
  }

  /** When to look at an unfinished pod again, at the latest. */
  public Instant recheckAt(Pod pod, Duration runDeadline, Instant watchingSince) {
    Instant created =
        latest(Instant.parse(pod.getMetadata().getCreationTimestamp()), watchingSince);
    boolean running = pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
    return running
        ? created.plus(runDeadline).plusSeconds(31)
        : created.plus(startTimeout).plusSeconds(1);
  }

  private static SourceOutcome finished(
      Pod pod, String member, String source, String node, ContainerStateTerminated terminated) {
    String message = terminated == null ? null : terminated.getMessage();
    String reason = pod.getStatus() == null ? null : pod.getStatus().getReason();
    // A result written before a kill counts; without one, the kill is the news, whatever the
    // log's tail (FallbackToLogsOnError) left in the message. Only a killed pod's message is
    // decoded here: every other one is decoded once, below.
    boolean outOfMemory = terminated != null && "OOMKilled".equals(terminated.getReason());
    boolean pastDeadline = "DeadlineExceeded".equals(reason);
    if ((outOfMemory || pastDeadline) && !hasResult(message)) {
      return outOfMemory
          ? SourceOutcome.failed(source, node, ProbeRunFailure.ProbeOutOfMemory, outOfMemory(pod))
          : SourceOutcome.failed(
              source,
              node,
              ProbeRunFailure.ProbeTimedOut,
              "the pod ran past its activeDeadlineSeconds");
    }
    if (message != null && !message.isBlank()) {
      List<String> lines;
      BatchCodec.Entry entry;
      List<String> names = List.copyOf(members(pod).keySet());
      int index = names.indexOf(member);
      try {
        lines = BatchCodec.lines(message);
        if (lines.size() != names.size() || index < 0) {
          BatchCodec.decode(message); // a crash's output, or results that do not match the pod?
          return SourceOutcome.failed(
              source,
              node,
              ProbeRunFailure.ProbeCrashed,
              "the result has " + lines.size() + " lines for " + names.size() + " endpoints");
        }
        entry = BatchCodec.decodeLine(lines.get(index));
      } catch (MalformedReportException e) {
        // Not a result: FallbackToLogsOnError put the output's tail there. Say so, briefly.
        return SourceOutcome.failed(
            source,
            node,
            ProbeRunFailure.ProbeCrashed,
            "exit code " + terminated.getExitCode() + ": " + message(lastLine(message)));
      }
      return entry.report() != null
          ? SourceOutcome.ran(source, node, entry.report())
          : SourceOutcome.failed(
              source, node, ProbeRunFailure.ProbeMisconfigured, message(entry.error()));
    }
    return SourceOutcome.failed(
        source,
        node,
        ProbeRunFailure.ProbeCrashed,
        terminated == null
            ? "the pod ended without a result" + (reason == null ? "" : " (" + reason + ")")
            : "exit code " + terminated.getExitCode() + " without a result");
  }

  private static boolean hasResult(String message) {
    if (message == null || message.isBlank()) {
      return false;
    }
    try {
      BatchCodec.decode(message);
      return true;
    } catch (MalformedReportException e) {
      return false;
    }
  }

  private static String outOfMemory(Pod pod) {
    String limit =
        pod.getSpec() == null
            ? null
            : pod.getSpec().getContainers().stream()
                .filter(c -> c.getResources() != null && c.getResources().getLimits() != null)
                .map(c -> c.getResources().getLimits().get("memory"))
                .filter(java.util.Objects::nonNull)
                .map(Object::toString)
                .findFirst()
                .orElse(null);
    return limit == null
        ? "killed for memory"
        : "killed for memory at its limit of " + limit + " (spec.probe.resources.limits.memory)";
  }

  private static Optional<SourceOutcome> failed(
      String source, String node, ProbeRunFailure failure, ContainerStateWaiting waiting) {
    String detail =
        waiting.getReason() + (waiting.getMessage() == null ? "" : ": " + waiting.getMessage());
    return Optional.of(SourceOutcome.failed(source, node, failure, message(detail)));
  }

  /** The pod's endpoints and their rounds, in the order of its result lines. */
  public static Map<String, String> members(Pod pod) {
    var annotations = pod.getMetadata().getAnnotations();
    String roster =
        annotations == null ? null : annotations.get(ProbePodFactory.MEMBERS_ANNOTATION);
    Map<String, String> members = new LinkedHashMap<>();
    if (roster != null) {
      for (String m : roster.trim().split("\\s+")) {
        int eq = m.indexOf('=');
        if (eq > 0) {
          members.put(m.substring(0, eq), m.substring(eq + 1));
        }
      }
    }
    return members;
  }

  /**
   * The round of endpoint {@code member} that the pod probes, or null if it probes no round of it.
   */
  public static String roundOf(Pod pod, String member) {
    return members(pod).get(member);
  }

  /** Whether the pod ended without a readable result: it stays a while for {@code kubectl logs}. */
  public static boolean crashed(Pod pod) {
    if (!settled(pod)) {
      return false;
    }
    ContainerStateTerminated terminated = terminated(pod);
    String message = terminated == null ? null : terminated.getMessage();
    if (message == null || message.isBlank()) {
      return terminated != null || "Failed".equals(pod.getStatus().getPhase());
    }
    try {
      BatchCodec.decode(message);
      return false;
    } catch (MalformedReportException e) {
      return true;
    }
  }

  static String source(Pod pod) {
    var annotations = pod.getMetadata().getAnnotations();
    String source = annotations == null ? null : annotations.get(ProbePodFactory.SOURCE_ANNOTATION);
    return source == null ? "unknown" : source;
  }

  private static ContainerStateTerminated terminated(Pod pod) {
    ContainerStatus container = container(pod);
    return container == null || container.getState() == null
        ? null
        : container.getState().getTerminated();
  }

  private static ContainerStatus container(Pod pod) {
    List<ContainerStatus> statuses =
        pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses();
    return statuses == null || statuses.isEmpty() ? null : statuses.get(0);
  }

  private static Optional<PodCondition> condition(Pod pod, String type, String status) {
    List<PodCondition> conditions =
        pod.getStatus() == null ? null : pod.getStatus().getConditions();
    return conditions == null
        ? Optional.empty()
        : conditions.stream()
            .filter(c -> type.equals(c.getType()) && status.equals(c.getStatus()))
            .findFirst();
  }

  private static Instant latest(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1];
  }

  /** Messages from pods are other programs' words: one line, bounded. */
  static String message(String text) {
    if (text == null) {
      return null;
    }
    String oneLine = text.replaceAll("\\s+", " ").strip();
    return oneLine.length() <= 300 ? oneLine : oneLine.substring(0, 299) + "…";
  }
}
