package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.ReportCodec;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a probe pod says: a report, still going, or why the probe could not run. */
class ProbePodReaderTest {
  private static final Instant CREATED = Instant.parse("2026-11-24T10:00:00Z");
  private static final Duration RUN = Duration.ofSeconds(50);

  /** When the operator began watching, in the tests that are not about it: long before. */
  private static final Instant EPOCH = Instant.EPOCH;

  private final ProbePodReader reader = new ProbePodReader(Duration.ofMinutes(2));

  @Test
  void aTerminationMessageWithAReportIsTheSourcesResultWhateverTheExitCode() {
    ProbeReport report = report("smtp.example.com", "587", Reason.CONNECT_TIMEOUT, "timed out");
    Pod pod =
        terminated(1, ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT), "Failed");
    SourceOutcome o = reader.read(pod, "mail", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow();
    assertThat(o.ran()).isTrue();
    assertThat(o.source()).isEqualTo("zone-b");
    assertThat(o.node()).isEqualTo("node-b");
    assertThat(o.report().results().get(0).reason()).isEqualTo(Reason.CONNECT_TIMEOUT);
  }

  @Test
  void eachEndpointOfASharedPodReadsItsOwnLine() throws Exception {
    ProbeReport relay = report("relay.example.com", "465", Reason.CONNECTION_REFUSED, "refused");
    String message =
        BatchCodec.encode(
            List.of(
                BatchCodec.Entry.failed("AUTH user given but no password"),
                BatchCodec.Entry.probed(relay)),
            ReportCodec.TERMINATION_MESSAGE_LIMIT);
    Pod pod =
        new PodBuilder(terminated(0, message, "Succeeded"))
            .editMetadata()
            .addToAnnotations(ProbePodFactory.MEMBERS_ANNOTATION, "mail=r1 relay=r7")
            .endMetadata()
            .build();

    assertThat(ProbePodReader.roundOf(pod, "relay")).isEqualTo("r7");
    assertThat(
            reader.read(pod, "relay", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow().report())
        .isEqualTo(relay);
    SourceOutcome mail =
        reader.read(pod, "mail", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow();
    assertThat(mail.failure()).isEqualTo(ProbeRunFailure.ProbeMisconfigured);
    assertThat(mail.message()).isEqualTo("AUTH user given but no password");
    assertThat(ProbePodReader.crashed(pod)).isFalse();

    Pod short1 =
        new PodBuilder(pod)
            .editMetadata()
            .addToAnnotations(ProbePodFactory.MEMBERS_ANNOTATION, "mail=r1 relay=r7 other=r2")
            .endMetadata()
            .build();
    assertThat(reader.read(short1, "relay", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow())
        .satisfies(o -> assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeCrashed))
        .satisfies(
            o -> assertThat(o.message()).isEqualTo("the result has 2 lines for 3 endpoints"));
  }

  @Test
  void outputThatIsNotAReportIsACrashNotAPortState() {
    Pod pod =
        terminated(
            3,
            "Exception in thread \"main\" java.lang.OutOfMemoryError\nsmtp-reach: boom",
            "Failed");
    SourceOutcome o = reader.read(pod, "mail", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow();
    assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeCrashed);
    assertThat(o.message()).isEqualTo("exit code 3: smtp-reach: boom");
    assertThat(ProbePodReader.crashed(pod)).as("kept for kubectl logs").isTrue();
  }

  @Test
  void aProbeKilledForMemoryIsNamedWithItsLimit() {
    Pod pod =
        // FallbackToLogsOnError: the kubelet put the log's tail where a result would be.
        new PodBuilder(terminated(137, "Picked up JAVA_TOOL_OPTIONS: -XX:-UsePerfData\n", "Failed"))
            .editSpec()
            .addNewContainer()
            .withName("probe")
            .withNewResources()
            .addToLimits("memory", new io.fabric8.kubernetes.api.model.Quantity("24Mi"))
            .endResources()
            .endContainer()
            .endSpec()
            .editStatus()
            .editFirstContainerStatus()
            .editState()
            .editTerminated()
            .withReason("OOMKilled")
            .endTerminated()
            .endState()
            .endContainerStatus()
            .endStatus()
            .build();
    SourceOutcome o = reader.read(pod, "mail", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow();
    assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeOutOfMemory);
    assertThat(o.message())
        .isEqualTo("killed for memory at its limit of 24Mi (spec.probe.resources.limits.memory)");
  }

  @Test
  void aReportWrittenBeforeAnOutOfMemoryKillStillCounts() throws Exception {
    ProbeReport report = report("smtp.example.com", "587", Reason.CONNECT_TIMEOUT, "timed out");
    Pod pod =
        new PodBuilder(
                terminated(
                    0,
                    ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT),
                    "Succeeded"))
            .editStatus()
            .editFirstContainerStatus()
            .editState()
            .editTerminated()
            .withReason("OOMKilled")
            .endTerminated()
            .endState()
            .endContainerStatus()
            .endStatus()
            .build();
    SourceOutcome o = reader.read(pod, "mail", RUN, CREATED.plusSeconds(10), EPOCH).orElseThrow();
    assertThat(o.ran())
        .as("the probe finished; what ran out of memory after does not matter")
        .isTrue();
  }

  @Test
  void anImageThatCannotBePulledFailsAtOnce() {
    Pod pod = waiting("ErrImagePull", "not found");
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(1), EPOCH))
        .hasValueSatisfying(
            o -> assertThat(o.failure()).isEqualTo(ProbeRunFailure.ImagePullFailed));
  }

  @Test
  void aMissingSecretIsAMisconfiguration() {
    Pod pod = waiting("CreateContainerConfigError", "secret \"creds\" not found");
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(1), EPOCH))
        .hasValueSatisfying(
            o -> {
              assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeMisconfigured);
              assertThat(o.message()).contains("secret \"creds\" not found");
            });
  }

  @Test
  void anUnschedulablePodGetsItsStartTimeoutThenCounts() {
    Pod pod =
        pending()
            .editStatus()
            .addNewCondition()
            .withType("PodScheduled")
            .withStatus("False")
            .withReason("Unschedulable")
            .withMessage("0/3 nodes are available")
            .endCondition()
            .endStatus()
            .build();
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(30), EPOCH)).isEmpty();
    assertThat(reader.recheckAt(pod, RUN, EPOCH)).isEqualTo(CREATED.plusSeconds(121));
    Optional<SourceOutcome> late = reader.read(pod, "mail", RUN, CREATED.plusSeconds(121), EPOCH);
    assertThat(late)
        .hasValueSatisfying(
            o -> {
              assertThat(o.failure()).isEqualTo(ProbeRunFailure.PodUnschedulable);
              assertThat(o.message()).isEqualTo("0/3 nodes are available");
            });
  }

  @Test
  void aPodKilledAtItsDeadlineTimedOut() {
    Pod pod =
        new PodBuilder(base())
            .withNewStatus()
            .withPhase("Failed")
            .withReason("DeadlineExceeded")
            .endStatus()
            .build();
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(60), EPOCH))
        .hasValueSatisfying(o -> assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeTimedOut));
  }

  @Test
  void aPodKilledAtItsDeadlineTimedOutWhateverItsLogSaid() {
    Pod pod =
        new PodBuilder(terminated(137, "Picked up JAVA_TOOL_OPTIONS: -XX:-UsePerfData\n", "Failed"))
            .editStatus()
            .withReason("DeadlineExceeded")
            .endStatus()
            .build();
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(60), EPOCH))
        .hasValueSatisfying(o -> assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeTimedOut));
  }

  @Test
  void aRunningPodIsWaitedForUntilItsDeadline() {
    Pod pod =
        new PodBuilder(base())
            .withNewStatus()
            .withPhase("Running")
            .withStartTime(CREATED.toString())
            .endStatus()
            .build();
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(60), EPOCH)).isEmpty();
    assertThat(reader.read(pod, "mail", RUN, CREATED.plusSeconds(81), EPOCH))
        .hasValueSatisfying(o -> assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeTimedOut));
  }

  @Test
  void onlyAnEndedPodOrOneThatCannotStartIsSettled() {
    Pod running = new PodBuilder(base()).withNewStatus().withPhase("Running").endStatus().build();
    Pod creating = waiting("ContainerCreating", null);
    Pod cannotPull = waiting("ImagePullBackOff", "back-off pulling image");

    assertThat(ProbePodReader.settled(base())).isFalse();
    assertThat(ProbePodReader.settled(pending().build())).isFalse();
    assertThat(ProbePodReader.settled(creating)).isFalse();
    assertThat(ProbePodReader.settled(running)).isFalse();
    assertThat(ProbePodReader.settled(cannotPull)).isTrue();
    assertThat(ProbePodReader.settled(terminated(0, "x", "Running"))).isTrue();
    assertThat(ProbePodReader.settled(terminated(0, "x", "Succeeded"))).isTrue();
  }

  @Test
  void aPodAnOperatorHasJustStartedToWatchGetsItsWholeStartTimeBeforeItCountsAsNotStarted() {
    // Created 10 minutes ago, still Pending as far as the cache knows: an API outage kept its
    // kubelet from reporting, and this operator process started (took the Lease) a second ago.
    Instant now = CREATED.plus(Duration.ofMinutes(10));
    Pod pod = pending().build();

    assertThat(reader.read(pod, "mail", RUN, now, now.minusSeconds(1))).isEmpty();
    assertThat(reader.recheckAt(pod, RUN, now.minusSeconds(1)))
        .isEqualTo(now.minusSeconds(1).plus(Duration.ofMinutes(2)).plusSeconds(1));
    assertThat(reader.read(pod, "mail", RUN, now, EPOCH))
        .hasValueSatisfying(
            o -> assertThat(o.failure()).isEqualTo(ProbeRunFailure.ProbeNotStarted));
  }

  /** A report of one port of {@code host}. */
  private static ProbeReport report(String host, String port, Reason reason, String message) {
    return new ProbeReport(
        host,
        false,
        CREATED,
        List.of(
            ProbeResult.builder(host, ProbeTarget.parse(port), IpFamily.ANY)
                .build(reason, message)));
  }

  private static Pod base() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("mail-r1-1")
        .withCreationTimestamp(CREATED.toString())
        .addToAnnotations(ProbePodFactory.SOURCE_ANNOTATION, "zone-b")
        .addToAnnotations(ProbePodFactory.MEMBERS_ANNOTATION, "mail=r1")
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-b")
        .endSpec()
        .build();
  }

  private static Pod waiting(String reason, String message) {
    return pending()
        .editStatus()
        .addNewContainerStatus()
        .withName("probe")
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .withMessage(message)
        .endWaiting()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  private static PodBuilder pending() {
    return new PodBuilder(base()).withNewStatus().withPhase("Pending").endStatus();
  }

  private static Pod terminated(int exitCode, String message, String phase) {
    return new PodBuilder(base())
        .withNewStatus()
        .withPhase(phase)
        .addNewContainerStatus()
        .withName("probe")
        .withNewState()
        .withNewTerminated()
        .withExitCode(exitCode)
        .withMessage(message)
        .endTerminated()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }
}
