package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.smtpreach.api.AuthSpec;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.Expectation;
import io.smtpreach.api.Placement;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.SourceStatus;
import io.smtpreach.api.TlsMode;
import io.smtpreach.cluster.ImageMap;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.OperatorInstall;
import io.smtpreach.cluster.OperatorProcess;
import io.smtpreach.cluster.ProcessNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.metrics.EndpointMetrics;
import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator as a specification, on a real control plane with process nodes in two zones (zone-b
 * behind its own iptables), a real Postfix, and the operator running as its own process with only
 * its generated RBAC.
 */
@WithLocalCluster
@ExtendWith(PostfixPeer.class)
class SmtpEndpointOperatorIT {
  private static final int SUBNET = 93;
  private static final String OPEN_POOL = "open";
  private static final String NO_IMAGES_POOL = "no-images";
  private static final Map<String, String> SETTINGS =
      Map.of(
          "SMTP_REACH_POD_START_TIMEOUT", "6s",
          "SMTP_REACH_PROBE_START_ALLOWANCE", "20s",
          "SMTP_REACH_DEFAULT_INTERVAL", "10m");

  private static NetworkNamespace zoneB;
  private static LocalCluster cluster;
  private static KubernetesClient k;
  private static Path operatorKubeconfig;
  private static Path operatorLog;
  private static OperatorProcess operator;
  private static Path caFile;
  private static EndpointSteps steps;

  @BeforeAll
  static void install(LocalCluster localCluster, PostfixPeer.Instance peer) {
    NetworkNamespace.requireSupport();
    OperatorProcess.requireJar();
    cluster = localCluster;
    k = cluster.client();
    caFile = peer.caFile();
    zoneB = NetworkNamespace.create(SUBNET);
    ImageMap images = ImageMap.standard();
    cluster.startNode(new ProcessNode.NodeConfig("node-a", "zone-a", OPEN_POOL, null), images);
    cluster.startNode(new ProcessNode.NodeConfig("node-b", "zone-b", OPEN_POOL, zoneB), images);
    // A node that has no image at all: whatever runs there fails to pull.
    cluster.startNode(
        new ProcessNode.NodeConfig("node-c", "zone-c", NO_IMAGES_POOL, null), new ImageMap());
    steps = new EndpointSteps(k, caFile);
    operatorKubeconfig = OperatorInstall.install(cluster);
    operatorLog = ProjectPaths.root().resolve("target/operator-it/operator.log");
    operator = OperatorProcess.start(operatorKubeconfig, SETTINGS, operatorLog);
    Awaitility.setDefaultPollInterval(Duration.ofMillis(250));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(60));
  }

  @AfterAll
  static void uninstall() {
    if (operator != null) {
      operator.close();
    }
    if (zoneB != null) {
      zoneB.close();
    }
    Awaitility.reset();
  }

  @AfterEach
  void openTheFirewall() {
    zoneB.flush();
  }

  @Test
  void probesFromEachZoneAndReportsStatusEventsAndMetrics(@TestNamespace String ns) {
    SmtpEndpoint ep = steps.create(ns, "mail", perZone());

    SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);
    assertThat(s.ports).extracting(p -> p.port).containsExactly(587, 465, 2525, 25);
    assertThat(s.ports).allSatisfy(p -> assertThat(p.state).isEqualTo("Reachable"));
    assertThat(port(s, 587).sources)
        .extracting(src -> src.name + "@" + src.node)
        .containsExactlyInAnyOrder("zone-a@node-a", "zone-b@node-b");
    assertThat(port(s, 465).tlsFacts.version).isEqualTo("TLSv1.3");
    assertThat(port(s, 587).authMechanisms).contains("PLAIN");
    assertThat(s.recommended).isEqualTo("587/StartTLS");
    assertCondition(s, ConditionTypes.READY, "True", ConditionTypes.ALL_PORTS_AS_EXPECTED);
    assertCondition(s, ConditionTypes.SECURE_SUBMISSION_AVAILABLE, "True", "SecurePortReachable");
    assertCondition(s, ConditionTypes.PROBES_RUNNING, "True", ConditionTypes.ROUND_SUCCEEDED);
    assertThat(s.observedGeneration).isEqualTo(ep.getMetadata().getGeneration());
    awaitEvent(ns, "mail", e -> e.getReason().equals("PortReachable"));
    await("finished pods deleted").until(() -> pods(ns).isEmpty());
    awaitMetric(1.0, "smtp_reach_port_up", ns, "mail", "587", "zone-b");
    assertThat(operator.metrics().lines().filter(l -> l.startsWith("operator_sdk_")))
        .as("JOSDK's meters are per controller: per endpoint they fill the heap at scale")
        .isNotEmpty()
        .noneMatch(l -> l.contains("name=\"mail\""));

    // 587 silently dropped on zone-b's node only.
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    s = steps.probeNow(ns, "mail");
    PortStatus p587 = port(s, 587);
    assertThat(p587.state).isEqualTo("Blocked");
    assertThat(p587.reason).isEqualTo("ConnectTimeout");
    assertThat(p587.source).isEqualTo("zone-b");
    assertThat(source(p587, "zone-b").state).isEqualTo("Blocked");
    assertThat(source(p587, "zone-a").state).isEqualTo("Reachable");
    assertThat(p587.sources.get(0).name).as("failing sources first").isEqualTo("zone-b");
    assertCondition(s, ConditionTypes.READY, "False", ConditionTypes.PORTS_NOT_AS_EXPECTED);
    assertThat(s.recommended).isEqualTo("465/Implicit");
    awaitEvent(
        ns,
        "mail",
        e ->
            e.getType().equals("Warning")
                && e.getReason().equals("PortBlocked")
                && e.getMessage().startsWith("587/StartTLS from zone-b is now Blocked"));
    awaitMetric(0.0, "smtp_reach_port_up", ns, "mail", "587", "zone-b");
    awaitMetric(1.0, "smtp_reach_port_up", ns, "mail", "587", "zone-a");
    awaitMetric(1.0, "smtp_reach_port_up", ns, "mail", "465", "zone-b");

    // The rule goes: recovery, with a Normal event.
    zoneB.flush();
    s = steps.probeNow(ns, "mail");
    assertThat(port(s, 587).state).isEqualTo("Reachable");
    assertCondition(s, ConditionTypes.READY, "True", ConditionTypes.ALL_PORTS_AS_EXPECTED);
    awaitEvent(
        ns,
        "mail",
        e ->
            e.getType().equals("Normal")
                && e.getMessage()
                    .startsWith("587/StartTLS from zone-b is now Reachable (was Blocked)"));
    awaitMetric(1.0, "smtp_reach_port_up", ns, "mail", "587", "zone-b");

    // The credential check ran, and its password is nowhere to be read.
    String everything =
        k.getKubernetesSerialization().asJson(steps.get(ns, "mail"))
            + events(ns, "mail").toString()
            + operator.log()
            + operator.metrics();
    assertThat(everything).doesNotContain(PostfixPeer.PASSWORD);
  }

  @Test
  void expectBlockedOnPort25IsQuietWhileBlockedAndFlagsItWhenItOpens(@TestNamespace String ns) {
    zoneB.iptables(
        "-A", "OUTPUT", "-p", "tcp", "--dport", "25", "-j", "REJECT", "--reject-with", "tcp-reset");
    SmtpEndpointSpec spec = spec();
    spec.ports =
        List.of(
            new PortSpec(587, TlsMode.StartTLS, null),
            new PortSpec(25, TlsMode.Auto, Expectation.Blocked));
    spec.probe = new ProbeSpec();
    spec.probe.nodeSelector = Map.of("topology.kubernetes.io/zone", "zone-b");
    steps.create(ns, "relay", spec);

    SmtpEndpointStatus s = steps.awaitRound(ns, "relay", null);
    assertThat(port(s, 25).state).isEqualTo("Refused");
    assertThat(port(s, 25).asExpected).isTrue();
    assertCondition(s, ConditionTypes.READY, "True", ConditionTypes.ALL_PORTS_AS_EXPECTED);
    assertThat(events(ns, "relay")).noneMatch(e -> e.getType().equals("Warning"));

    zoneB.flush();
    s = steps.probeNow(ns, "relay");
    assertThat(port(s, 25).state).isEqualTo("Reachable");
    assertThat(port(s, 25).asExpected).isFalse();
    assertCondition(s, ConditionTypes.READY, "False", ConditionTypes.PORTS_NOT_AS_EXPECTED);
    awaitEvent(
        ns, "relay", e -> e.getType().equals("Warning") && e.getReason().equals("PortReachable"));
    awaitMetric(0.0, "smtp_reach_port_as_expected", ns, "relay", "25", "any");
  }

  @Test
  void probesThatCannotRunChangeNoPortState(@TestNamespace String ns) {
    SmtpEndpointSpec spec = spec();
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.probe = new ProbeSpec();
    spec.probe.nodeSelector = Map.of(ProcessNode.POOL_LABEL, OPEN_POOL);
    steps.create(ns, "mail", spec);
    SmtpEndpointStatus first = steps.awaitRound(ns, "mail", null);
    PortStatus before = port(first, 587);
    assertThat(before.state).isEqualTo("Reachable");

    // A spec change re-probes at once; on a node without the image, the pull fails.
    SmtpEndpointStatus s =
        steps.edit(
            ns, "mail", e -> withSelector(e, Map.of(ProcessNode.POOL_LABEL, NO_IMAGES_POOL)));
    s = steps.awaitCondition(ns, "mail", ConditionTypes.PROBES_RUNNING, "False");
    assertCondition(s, ConditionTypes.PROBES_RUNNING, "False", "ImagePullFailed");
    assertThat(port(s, 587).state).isEqualTo("Reachable");
    assertThat(port(s, 587).since).isEqualTo(before.since);
    assertThat(s.observedGeneration).isEqualTo(2L);
    awaitEvent(ns, "mail", e -> e.getReason().equals("ImagePullFailed"));
    awaitMetric(0.0, EndpointMetrics.PROBES_RUNNING, ns, "mail", null, null);
    awaitMetric(1.0, "smtp_reach_port_up", ns, "mail", "587", "any");

    // No node matches at all: the pod stays Pending, then counts as unschedulable.
    steps.edit(ns, "mail", e -> withSelector(e, Map.of(ProcessNode.POOL_LABEL, "nowhere")));
    s =
        await("PodUnschedulable")
            .until(
                () -> steps.get(ns, "mail").getStatus(),
                st ->
                    st.observedGeneration == 3L
                        && Conditions.find(st.conditions, ConditionTypes.PROBES_RUNNING)
                            .filter(c -> c.getReason().equals("PodUnschedulable"))
                            .isPresent());
    assertThat(port(s, 587).state).isEqualTo("Reachable");
    assertThat(port(s, 587).since).isEqualTo(before.since);
  }

  @Test
  void cordonedZonesKeepWhatIsKnownOfThemAndTheirSeries(@TestNamespace String ns) {
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    SmtpEndpointSpec spec = perZone();
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.connectTimeout = "2s";
    steps.create(ns, "mail", spec);
    SmtpEndpointStatus first = steps.awaitRound(ns, "mail", null);
    assertThat(source(port(first, 587), "zone-b").state).isEqualTo("Blocked");
    try {
      // zone-b's only node cordoned: zone-b did not run, it did not become fine.
      cordon("node-b", true);
      SmtpEndpointStatus s = steps.probeNow(ns, "mail");
      assertThat(port(s, 587).state).isEqualTo("Blocked");
      assertThat(source(port(s, 587), "zone-b").since)
          .isEqualTo(source(port(first, 587), "zone-b").since);
      assertCondition(s, ConditionTypes.PROBES_RUNNING, "False", "NoEligibleNodes");
      awaitMetric(0.0, "smtp_reach_port_up", ns, "mail", "587", "zone-b");

      // Every node cordoned: the round cannot start at all, and still nothing is forgotten.
      cordon("node-a", true);
      s = steps.probeNow(ns, "mail");
      assertThat(port(s, 587).sources)
          .extracting(src -> src.name + "=" + src.state)
          .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Blocked");
      assertCondition(s, ConditionTypes.PROBES_RUNNING, "False", "NoEligibleNodes");
      assertThat(metric("smtp_reach_port_up", ns, "mail", "587", "zone-b")).isEqualTo(0.0);
      assertThat(metric("smtp_reach_port_up", ns, "mail", "587", "zone-a")).isEqualTo(1.0);
    } finally {
      cordon("node-a", false);
      cordon("node-b", false);
    }
  }

  @Test
  void aPodSmtpReachDidNotCreateIsNeverReadEvenIfItClaimsTheNextRound(@TestNamespace String ns) {
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    SmtpEndpointSpec spec = perZone();
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.connectTimeout = "2s";
    spec.interval = "30s";
    SmtpEndpoint ep = steps.create(ns, "mail", spec);
    SmtpEndpointStatus first = steps.awaitRound(ns, "mail", null);
    assertThat(source(port(first, 587), "zone-b").state).isEqualTo("Blocked");

    // Whoever may create pods here forges zone-b's next result: probed from zone-a instead.
    Pod forged =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("forged")
            .withNamespace(ns)
            .addToLabels(ProbePodFactory.MANAGED_BY_LABEL, ProbePodFactory.MANAGED_BY)
            .addToAnnotations(ProbePodFactory.MEMBERS_ANNOTATION, "mail=" + first.round.id)
            .addToAnnotations(ProbePodFactory.SOURCE_ANNOTATION, "zone-b")
            .addToAnnotations(PodSignature.ANNOTATION, "made-up")
            .addNewOwnerReference()
            .withApiVersion(ep.getApiVersion())
            .withKind(ep.getKind())
            .withName("mail")
            .withUid(ep.getMetadata().getUid())
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .withNodeSelector(Map.of("topology.kubernetes.io/zone", "zone-a"))
            .addNewContainer()
            .withName("probe")
            .withImage("ghcr.io/smtp-reach/smtp-reach:forged")
            .withArgs(
                "batch",
                "--result-file",
                "/dev/termination-log",
                "--",
                spec.host,
                "-p",
                "587:starttls",
                "--insecure")
            .withTerminationMessagePath("/dev/termination-log")
            .endContainer()
            .endSpec()
            .build();
    k.pods().inNamespace(ns).resource(forged).create();

    SmtpEndpointStatus second = steps.awaitRound(ns, "mail", first.lastProbeTime);
    assertThat(source(port(second, 587), "zone-b").state).isEqualTo("Blocked");
    awaitEvent(
        ns,
        "mail",
        e -> e.getReason().equals("ForeignProbePod") && e.getMessage().contains("forged"));
    assertThat(k.pods().inNamespace(ns).withName("forged").get())
        .as("not ours to delete either")
        .isNotNull();
  }

  @Test
  void aProbePodDeletedMidRoundIsNotProbedAgain(@TestNamespace String ns) {
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    List<String> zoneBPods = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (var watch =
        k.pods()
            .inNamespace(ns)
            .inform(
                new ResourceEventHandler<Pod>() {
                  @Override
                  public void onAdd(Pod pod) {
                    if ("zone-b".equals(ProbePodReader.source(pod))) {
                      zoneBPods.add(pod.getMetadata().getName());
                    }
                  }

                  @Override
                  public void onUpdate(Pod before, Pod after) {}

                  @Override
                  public void onDelete(Pod pod, boolean unknown) {}
                })) {
      SmtpEndpointSpec spec = perZone();
      spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
      spec.connectTimeout = "8s";
      steps.create(ns, "mail", spec);
      await("zone-b's pod").until(() -> !zoneBPods.isEmpty());
      k.pods().inNamespace(ns).withName(zoneBPods.get(0)).withGracePeriod(0).delete();

      SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);
      assertCondition(s, ConditionTypes.PROBES_RUNNING, "False", "ProbePodDeleted");
      assertThat(port(s, 587).sources).extracting(src -> src.name).containsExactly("zone-a");
      assertThat(zoneBPods).as("zone-b was not probed a second time").hasSize(1);
    }
  }

  @Test
  void anEndpointRecreatedUnderTheSameNameStartsFromNothing(@TestNamespace String ns) {
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    SmtpEndpointSpec spec = perZone();
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.connectTimeout = "5s";
    steps.create(ns, "mail", spec);
    await("the first incarnation's pods").until(() -> pods(ns).size() == 2);
    steps.endpoint(ns, "mail").withGracePeriod(0).delete();
    await("gone").until(() -> steps.endpoint(ns, "mail").get() == null);
    zoneB.flush();

    steps.create(ns, "mail", spec);
    SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);
    assertThat(port(s, 587).sources)
        .extracting(src -> src.name + "=" + src.state)
        .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Reachable");
  }

  /**
   * A finished round's status write also schedules the next: it starts with no write of its own.
   */
  @Test
  void theNextRoundIsScheduledWithTheLastResultAndStartsOnTime(@TestNamespace String ns) {
    SmtpEndpointSpec spec = perZone();
    spec.interval = "30s";
    spec.timeout = "5s";
    steps.create(ns, "mail", spec);

    SmtpEndpointStatus first = steps.awaitRound(ns, "mail", null);
    assertThat(first.round).as("the next round, scheduled with the result").isNotNull();
    assertThat(first.round.trigger).isEqualTo("Interval");
    assertThat(first.round.startedAt).isEqualTo(first.nextProbeTime);
    assertThat(first.round.sources).containsExactlyInAnyOrder("zone-a", "zone-b");
    String scheduled = first.round.id;

    SmtpEndpointStatus second = steps.awaitRound(ns, "mail", first.lastProbeTime);
    assertThat(second.lastProbeTime).isEqualTo(first.nextProbeTime);
    assertThat(second.round.id).isNotEqualTo(scheduled);
    assertThat(second.round.startedAt).isEqualTo(second.nextProbeTime);
    List<String> created =
        k.v1().events().inNamespace(ns).list().getItems().stream()
            .filter(e -> "Scheduled".equals(e.getReason()))
            .map(e -> e.getInvolvedObject().getName())
            .toList();
    assertThat(created)
        .as("one pod per zone, once")
        .filteredOn(podsOf(ns, "mail=" + scheduled)::contains)
        .hasSize(2);
  }

  @Test
  void anOperatorKilledMidRoundLosesNothingAndLeavesNoOrphanPods(@TestNamespace String ns) {
    // A round that takes a while: 587 silently dropped from zone-b, 5 s connect timeout.
    zoneB.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP");
    SmtpEndpointSpec spec = perZone();
    spec.connectTimeout = "5s";
    steps.create(ns, "mail", spec);
    SmtpEndpointStatus inProgress =
        await("round in progress")
            .until(() -> steps.get(ns, "mail").getStatus(), st -> st != null && st.round != null);
    String round = inProgress.round.id;

    operator.kill();
    operator = OperatorProcess.start(operatorKubeconfig, SETTINGS, operatorLog);

    SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);
    assertThat(s.lastProbeTime).isEqualTo(inProgress.round.startedAt.substring(0, 19) + "Z");
    assertThat(port(s, 587).sources)
        .extracting(src -> src.state)
        .containsExactlyInAnyOrder("Blocked", "Reachable");
    await("no pods left").until(() -> pods(ns).isEmpty());
    List<String> created =
        k.v1().events().inNamespace(ns).list().getItems().stream()
            .filter(e -> "Scheduled".equals(e.getReason()))
            .map(e -> e.getInvolvedObject().getName())
            .toList();
    assertThat(created)
        .as("one pod per zone, once")
        .containsExactlyInAnyOrderElementsOf(podsOf(ns, "mail=" + round));
  }

  @Test
  void endpointsWhoseRoundsStartTogetherShareTheirProbePods(@TestNamespace String ns) {
    Set<String> rosters = ConcurrentHashMap.newKeySet();
    try (var watch =
        k.pods()
            .inNamespace(ns)
            .inform(
                new ResourceEventHandler<Pod>() {
                  @Override
                  public void onAdd(Pod pod) {
                    rosters.add(ProbePodReader.members(pod).keySet().toString());
                  }

                  @Override
                  public void onUpdate(Pod before, Pod after) {}

                  @Override
                  public void onDelete(Pod pod, boolean unknown) {}
                })) {
      for (String name : List.of("one", "two", "three")) {
        steps.create(ns, name, perZone());
      }

      for (String name : List.of("one", "two", "three")) {
        SmtpEndpointStatus s = steps.awaitRound(ns, name, null);
        assertThat(s.ports).allSatisfy(p -> assertThat(p.state).isEqualTo("Reachable"));
        assertThat(port(s, 587).sources).hasSize(2);
      }
      assertThat(rosters)
          .as("pods of the two zones, at least one shared: %s", rosters)
          .hasSizeLessThan(6)
          .anyMatch(r -> r.contains(","));
      await("every pod deleted once all its endpoints read it").until(() -> pods(ns).isEmpty());
    }
  }

  @Test
  void anEndpointOutsideTheAdminsProbePolicyIsNotProbedAndSaysWhy(@TestNamespace String ns) {
    SmtpEndpointSpec spec = spec();
    spec.probe = new ProbeSpec();
    spec.probe.resources =
        new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
            .addToRequests("memory", new io.fabric8.kubernetes.api.model.Quantity("64Mi"))
            .build(); // no memory limit: the probe container could take the node's memory
    steps.create(ns, "greedy", spec);

    SmtpEndpointStatus s =
        steps.awaitCondition(ns, "greedy", ConditionTypes.PROBES_RUNNING, "False");
    assertCondition(s, ConditionTypes.PROBES_RUNNING, "False", "ProbeNotAllowed");
    assertThat(
            Conditions.find(s.conditions, ConditionTypes.PROBES_RUNNING).orElseThrow().getMessage())
        .isEqualTo("probe.resources must set limits.memory (at most 512Mi)");
    assertThat(pods(ns)).isEmpty();
  }

  /**
   * The canary suite: every key of the referenced Secret and ConfigMap holds a unique canary, the
   * spec's strings are hostile, and no canary may appear in status, Events, the operator's log, its
   * metrics or the pods' specs and results.
   */
  @Test
  void noValueOfAReferencedSecretOrConfigMapEverAppearsAnywhere(@TestNamespace String ns)
      throws Exception {
    String tag = UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> secret =
        Map.of(
            "username", "canary-user-" + tag,
            "password", "canary-pass-" + tag,
            "apikey", "canary-key-" + tag);
    Map<String, String> config = Map.of("ca.pem", "canary-ca-" + tag, "other", "canary-cm-" + tag);
    k.secrets()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withName("team-secrets")
                .endMetadata()
                .addToStringData(secret)
                .build())
        .create();
    k.configMaps()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.ConfigMapBuilder()
                .withNewMetadata()
                .withName("team-config")
                .endMetadata()
                .addToData(config)
                .build())
        .create();

    List<String> created = new java.util.ArrayList<>();
    // AUTH with another key of the Secret as the username: Postfix rejects it.
    created.add(tryCreate(ns, "wrong-key", withAuth(spec(), "apikey", "password")));
    // Any certificate accepted: the credential must not be sent at all.
    SmtpEndpointSpec insecure = withAuth(spec(), "username", "password");
    insecure.tls.caBundle = null;
    insecure.tls.insecureSkipVerify = true;
    created.add(tryCreate(ns, "insecure", insecure));
    // A CA bundle that is not PEM, from a Secret key and a ConfigMap key.
    SmtpEndpointSpec caFromSecret = withAuth(spec(), "username", "password");
    caFromSecret.tls.caBundle = new CaBundleSource();
    caFromSecret.tls.caBundle.secretKeyRef =
        new io.fabric8.kubernetes.api.model.SecretKeySelector("apikey", "team-secrets", false);
    created.add(tryCreate(ns, "ca-from-secret", caFromSecret));
    SmtpEndpointSpec caFromConfig = withAuth(spec(), "username", "password");
    caFromConfig.tls.caBundle.configMapKeyRef =
        new io.fabric8.kubernetes.api.model.ConfigMapKeySelector("ca.pem", "team-config", false);
    created.add(tryCreate(ns, "ca-from-config", caFromConfig));
    // Hostile strings in every free-text field the API server lets through.
    List<String> hostile =
        List.of("@/proc/self/environ", "--insecure", "-p 1", "a\nb", "x".repeat(4096));
    int i = 0;
    for (String value : hostile) {
      SmtpEndpointSpec ehlo = withAuth(spec(), "username", "password");
      ehlo.ehloName = value;
      created.add(tryCreate(ns, "ehlo-" + i, ehlo));
      SmtpEndpointSpec sni = withAuth(spec(), "username", "password");
      sni.tls.serverName = value;
      created.add(tryCreate(ns, "sni-" + i, sni));
      SmtpEndpointSpec host = withAuth(spec(), "username", "password");
      host.host = value;
      created.add(tryCreate(ns, "host-" + i, host));
      i++;
    }
    List<String> probed = created.stream().filter(java.util.Objects::nonNull).toList();
    assertThat(probed)
        .as("what the API server let through, e.g. the @file and option-like EHLO names")
        .contains("wrong-key", "insecure", "ca-from-secret", "ca-from-config", "ehlo-0", "ehlo-1");

    for (String name : probed) {
      await(name + " probed or refused")
          .atMost(Duration.ofSeconds(120))
          .until(
              () -> steps.get(ns, name).getStatus(),
              st ->
                  st != null
                      && EndpointSteps.idle(st)
                      && Conditions.find(st.conditions, ConditionTypes.PROBES_RUNNING)
                          .filter(c -> !c.getStatus().equals("Unknown"))
                          .isPresent());
    }
    assertThat(source(port(steps.get(ns, "wrong-key").getStatus(), 587), "any").state)
        .isEqualTo("Rejected");

    var json = k.getKubernetesSerialization();
    StringBuilder everywhere = new StringBuilder();
    for (String name : probed) {
      everywhere.append(json.asJson(steps.get(ns, name).getStatus())).append('\n');
    }
    k.v1()
        .events()
        .inNamespace(ns)
        .list()
        .getItems()
        .forEach(e -> everywhere.append(json.asJson(e)).append('\n'));
    pods(ns).forEach(p -> everywhere.append(json.asJson(p)).append('\n'));
    everywhere.append(operator.metrics()).append('\n');
    everywhere.append(operator.log());
    List<String> canaries = new java.util.ArrayList<>(secret.values());
    canaries.addAll(config.values());
    for (String canary : canaries) {
      assertThat(
              everywhere
                  .toString()
                  .lines()
                  .filter(l -> l.contains(canary))
                  .map(l -> around(l, canary)))
          .as("places canary %s appears", canary)
          .isEmpty();
    }
  }

  private static String around(String line, String canary) {
    int at = line.indexOf(canary);
    return line.substring(
        Math.max(0, at - 120), Math.min(line.length(), at + canary.length() + 40));
  }

  /** Creates an endpoint; null when the API server rejects its spec (then it never runs). */
  private static String tryCreate(String ns, String name, SmtpEndpointSpec spec) {
    try {
      steps.create(ns, name, spec);
      return name;
    } catch (KubernetesClientException rejected) {
      assertThat(rejected.getCode()).as(name).isEqualTo(422);
      return null;
    }
  }

  private static SmtpEndpointSpec withAuth(SmtpEndpointSpec spec, String user, String password) {
    spec.ports = List.of(new PortSpec(587, TlsMode.StartTLS, null));
    spec.auth = new AuthSpec();
    spec.auth.secretRef = new AuthSpec.SecretRef();
    spec.auth.secretRef.name = "team-secrets";
    spec.auth.secretRef.usernameKey = user;
    spec.auth.secretRef.passwordKey = password;
    spec.probe = new ProbeSpec();
    spec.probe.nodeSelector = Map.of(ProcessNode.POOL_LABEL, OPEN_POOL);
    return spec;
  }

  @Test
  void invalidSpecsAreRejectedWithTheServersMessage(@TestNamespace String ns) {
    SmtpEndpointSpec both = spec();
    both.mxDomain = "example.com";
    assertRejected(ns, both, "set exactly one of host and mxDomain");

    SmtpEndpointSpec twice = spec();
    twice.ports = List.of(new PortSpec(587, null, null), new PortSpec(587, TlsMode.Implicit, null));
    assertRejected(ns, twice, "Duplicate value"); // ports is a list map keyed by port

    SmtpEndpointSpec fast = spec();
    fast.interval = "10s";
    assertRejected(ns, fast, "interval must be at least 30s");

    SmtpEndpointSpec slow = spec();
    slow.interval = "1m";
    slow.timeout = "2m";
    assertRejected(ns, slow, "timeout must be shorter than interval");

    SmtpEndpointSpec group = spec();
    group.probe = new ProbeSpec();
    group.probe.placement = Placement.PerNodeGroup;
    assertRejected(ns, group, "nodeLabel is required when placement is PerNodeGroup");

    SmtpEndpointSpec port = spec();
    port.ports = List.of(new PortSpec(70000, null, null));
    assertRejected(ns, port, "spec.ports[0].port");
  }

  @Test
  void deletingAnEndpointLeavesNoPodsAndNoSeries(@TestNamespace String ns) {
    steps.create(ns, "gone", perZone());
    steps.awaitRound(ns, "gone", null);
    assertThat(operator.metrics()).contains("endpoint=\"gone\"");

    k.resources(SmtpEndpoint.class).inNamespace(ns).withName("gone").delete();

    await("series removed").until(() -> !operator.metrics().contains("endpoint=\"gone\""));
    await("pods gone").until(() -> pods(ns).isEmpty());
  }

  @Test
  void theOperatorHasOnlyItsOwnPermissions() {
    try (KubernetesClient asOperator = LocalCluster.clientFor(operatorKubeconfig)) {
      assertThat(allowed(asOperator, "", "pods", "create", "some-namespace")).isTrue();
      assertThat(allowed(asOperator, "", "secrets", "get", "some-namespace")).isFalse();
      assertThat(allowed(asOperator, "", "configmaps", "list", "some-namespace")).isFalse();
      assertThat(allowed(asOperator, "apps", "deployments", "create", "some-namespace")).isFalse();
      assertThat(allowed(asOperator, "", "nodes", "delete", null)).isFalse();
      assertThat(
              allowed(
                  asOperator, "coordination.k8s.io", "leases", "update", OperatorInstall.NAMESPACE))
          .isTrue();
      assertThat(allowed(asOperator, "coordination.k8s.io", "leases", "update", "some-namespace"))
          .isFalse();
      assertThat(allowed(asOperator, "", "secrets", "get", OperatorInstall.NAMESPACE))
          .as("in its own namespace, only its own signing key")
          .isFalse();
      assertThat(
              k.secrets()
                  .inNamespace(OperatorInstall.NAMESPACE)
                  .withName("smtp-reach-pod-signing")
                  .get())
          .as("the probe pods' signing key, made on first start")
          .isNotNull();
    }
  }

  // --- the endpoint under test ---

  /** The local Postfix, as seen from both zones, with its CA from a ConfigMap and AUTH checked. */
  private static SmtpEndpointSpec spec() {
    SmtpEndpointSpec spec = EndpointSteps.postfix(zoneB.hostAddress());
    spec.probe = null;
    return spec;
  }

  private static SmtpEndpointSpec perZone() {
    SmtpEndpointSpec spec = EndpointSteps.postfixPerZone(zoneB.hostAddress());
    spec.probe.nodeSelector = Map.of(ProcessNode.POOL_LABEL, OPEN_POOL);
    return spec;
  }

  private static void cordon(String node, boolean unschedulable) {
    k.nodes()
        .withName(node)
        .edit(
            n -> {
              n.getSpec().setUnschedulable(unschedulable);
              return n;
            });
  }

  private static SmtpEndpoint withSelector(SmtpEndpoint e, Map<String, String> selector) {
    e.getSpec().probe.nodeSelector = selector;
    return e;
  }

  private static void assertRejected(String ns, SmtpEndpointSpec spec, String message) {
    String name = "bad-" + UUID.randomUUID().toString().substring(0, 6);
    assertThatThrownBy(() -> steps.create(ns, name, spec))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(message);
  }

  // --- observing ---

  /** The names of the pods, one per zone, that probe these members alone. */
  private static List<String> podsOf(String ns, String members) {
    return List.of(
        ProbePodFactory.podName(ns, "zone-a", members),
        ProbePodFactory.podName(ns, "zone-b", members));
  }

  private static List<Pod> pods(String ns) {
    return k.pods().inNamespace(ns).list().getItems();
  }

  /** Waits for an Event of the endpoint: Events are written just after the status they follow. */
  private static void awaitEvent(String ns, String name, Predicate<Event> matching) {
    await("the Event").untilAsserted(() -> assertThat(events(ns, name)).anyMatch(matching));
  }

  private static List<Event> events(String ns, String name) {
    return k.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "SmtpEndpoint".equals(e.getInvolvedObject().getKind()))
        .toList();
  }

  private static PortStatus port(SmtpEndpointStatus s, int port) {
    return s.ports.stream().filter(p -> p.port == port).findFirst().orElseThrow();
  }

  private static SourceStatus source(PortStatus p, String name) {
    return p.sources.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow();
  }

  private static void assertCondition(
      SmtpEndpointStatus s, String type, String status, String reason) {
    assertThat(Conditions.find(s.conditions, type))
        .hasValueSatisfying(
            c -> {
              assertThat(c.getStatus()).as(type).isEqualTo(status);
              assertThat(c.getReason()).as(type + " reason").isEqualTo(reason);
            });
  }

  /** Waits for a sample of the operator's /q/metrics: gauges follow the status a moment later. */
  private static void awaitMetric(
      double value, String name, String ns, String endpoint, String port, String source) {
    await(name + " " + endpoint + " " + port + " " + source + " = " + value)
        .until(() -> Double.valueOf(value).equals(metric(name, ns, endpoint, port, source)));
  }

  /** One sample of the operator's /q/metrics; null when the series is absent. */
  private static Double metric(
      String name, String ns, String endpoint, String port, String source) {
    for (String line : operator.metrics().split("\n")) {
      if (line.startsWith(name + "{")
          && line.contains("namespace=\"" + ns + "\"")
          && line.contains("endpoint=\"" + endpoint + "\"")
          && (port == null || line.contains("port=\"" + port + "\""))
          && (source == null || line.contains("source=\"" + source + "\""))) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return null;
  }

  private static boolean allowed(
      KubernetesClient client, String group, String resource, String verb, String namespace) {
    return client
        .authorization()
        .v1()
        .selfSubjectAccessReview()
        .create(
            new SelfSubjectAccessReviewBuilder()
                .withNewSpec()
                .withNewResourceAttributes()
                .withGroup(group)
                .withResource(resource)
                .withVerb(verb)
                .withNamespace(namespace)
                .endResourceAttributes()
                .endSpec()
                .build())
        .getStatus()
        .getAllowed();
  }
}
