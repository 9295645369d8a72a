package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.smtpreach.api.PortStatus;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.cli.VersionProvider;
import io.smtpreach.cluster.HostState;
import io.smtpreach.cluster.LocalCluster;
import io.smtpreach.cluster.PrometheusOperator;
import io.smtpreach.cluster.RealNode;
import io.smtpreach.cluster.TestNamespace;
import io.smtpreach.cluster.WithLocalCluster;
import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.PrometheusServer;
import io.smtpreach.reconciler.EndpointSteps;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A user's first {@code helm install}, on real nodes: the image {@code make image} built, imported
 * into two kubelet + containerd nodes in two zones; the chart runs the operator as a pod of it;
 * probe pods are containers of it under the real restrictions, their results the kubelet's
 * termination messages. The test's DNS server plays the cluster DNS; zone-b's node drops 587.
 */
@WithLocalCluster
@ExtendWith(PostfixPeer.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartOnRealNodesIT {
  private static final RealNode.Config ZONE_A = new RealNode.Config("real-a", "zone-a", 101);
  private static final RealNode.Config ZONE_B = new RealNode.Config("real-b", "zone-b", 102);
  private static final String RELEASE = "smtp-reach";
  private static final Duration INTERVAL = Duration.ofMinutes(1);
  private static final Path WORK = ProjectPaths.root().resolve("target/chart-on-real-nodes");

  private static HostState before;
  private static LocalCluster cluster;
  private static KubernetesClient k;
  private static RealNode zoneA;
  private static RealNode zoneB;
  private static FakeDnsServer dnsA;
  private static FakeDnsServer dnsB;
  private static EndpointSteps steps;
  private static boolean nodesStopped;
  private static PrometheusOperator prometheusOperator;
  private static PrometheusServer prometheus;

  /** A DNS blocklist the nodes' resolver (the tests' FakeDnsServer) answers: nothing listed. */
  private static final String BLOCKLIST = "bl.smtp-reach.test";

  @BeforeAll
  static void install(LocalCluster localCluster, PostfixPeer.Instance postfix) throws Exception {
    RealNode.requireSupport();
    Path image = ImageArchive.require();
    before = HostState.capture();
    cluster = localCluster;
    k = cluster.client();
    zoneA = cluster.startRealNode(ZONE_A);
    zoneB = cluster.startRealNode(ZONE_B);
    for (RealNode n : List.of(zoneA, zoneB)) {
      assertThat(n.importImage(image)).contains("ghcr.io/smtp-reach/smtp-reach:0.1.0");
    }
    // The pods' resolver (the kubelet's clusterDNS is the node's address).
    dnsA = FakeDnsServer.start(InetAddress.getByName(ZONE_A.address()), 53);
    dnsB = FakeDnsServer.start(InetAddress.getByName(ZONE_B.address()), 53);
    steps = new EndpointSteps(k, postfix.caFile());
    // Before the chart: its ServiceMonitor and PrometheusRule need prometheus-operator's CRDs.
    prometheusOperator = PrometheusOperator.start(cluster, WORK.resolve("prometheus-operator"));

    var install =
        ProcessRunner.run(
            List.of(
                Helm.binary().toString(),
                "install",
                RELEASE,
                Helm.CHART.toString(),
                "--kubeconfig",
                cluster.kubeconfig().toString(),
                "--namespace",
                Helm.NAMESPACE,
                "--create-namespace",
                "--set",
                "image.pullPolicy=Never",
                "--set",
                "operator.defaultInterval=" + INTERVAL.toMinutes() + "m",
                "--set",
                "serviceMonitor.enabled=true",
                "--set",
                "prometheusRule.enabled=true",
                "--set",
                "probe.dnsblZones={" + BLOCKLIST + "}",
                "--wait",
                "--timeout",
                "3m"),
            240);
    assertThat(install.exitCode()).as(install.output()).isZero();
    Awaitility.setDefaultPollInterval(Duration.ofMillis(250));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(90));
  }

  @AfterAll
  static void closePeers() {
    if (prometheus != null) {
      prometheus.close();
    }
    if (prometheusOperator != null) {
      prometheusOperator.close();
    }
    for (FakeDnsServer dns : new FakeDnsServer[] {dnsA, dnsB}) {
      if (dns != null) {
        dns.close();
      }
    }
    Awaitility.reset();
  }

  @AfterEach
  void openTheFirewall() {
    if (!nodesStopped) {
      zoneB.clearEgressRules();
    }
  }

  @Test
  @Order(1)
  void theChartRunsTheOperatorAsAPodOfTheImageOnARealNode() {
    Pod operator = operatorPod();
    Container c = operator.getSpec().getContainers().get(0);

    assertThat(c.getImage()).isEqualTo("ghcr.io/smtp-reach/smtp-reach:0.1.0");
    assertThat(operator.getSpec().getNodeName()).isIn(ZONE_A.name(), ZONE_B.name());
    assertThat(operator.getStatus().getContainerStatuses().get(0).getReady()).isTrue();
    assertThat(operator.getStatus().getContainerStatuses().get(0).getImageID())
        .as("run by containerd from the imported image")
        .startsWith("sha256:");
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(operator.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
  }

  @Test
  @Order(2)
  void probePodsRunTheImageRestrictedAndSeeZoneBsDroppedSubmissionPort(@TestNamespace String ns) {
    Map<String, Pod> probePods = watchProbePods(ns);
    zoneB.addEgressRule("-p", "tcp", "--dport", "587", "-j", "DROP");
    steps.create(ns, "mail", perZone(ZONE_A.address()));

    SmtpEndpointStatus s = steps.awaitRound(ns, "mail", null);

    assertThat(port(s, 587).sources)
        .extracting(src -> src.name + "@" + src.node + "=" + src.state)
        .containsExactlyInAnyOrder("zone-a@real-a=Reachable", "zone-b@real-b=Blocked");
    assertThat(port(s, 465).sources)
        .allSatisfy(src -> assertThat(src.state).isEqualTo("Reachable"));
    assertThat(source(port(s, 587), "zone-a").message)
        .contains("AUTH with the username from key username of Secret smtp-credentials accepted");
    assertThat(probePods.values())
        .extracting(p -> p.getSpec().getNodeName())
        .containsExactlyInAnyOrder(ZONE_A.name(), ZONE_B.name());
    for (Pod p : probePods.values()) {
      Container c = p.getSpec().getContainers().get(0);
      assertThat(c.getImage()).isEqualTo("ghcr.io/smtp-reach/smtp-reach:0.1.0");
      assertThat(p.getSpec().getAutomountServiceAccountToken()).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(p.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(c.getResources().getLimits()).containsKey("memory");
      // Read (and deleted) once its container ended, maybe before the pod's phase said so.
      assertThat(
              p.getStatus().getContainerStatuses().get(0).getState().getTerminated().getMessage())
          .as("the result, as the kubelet reports it")
          .isNotBlank();
    }
  }

  @Test
  @Order(3)
  void prometheusOperatorsScrapeOfTheOperatorPodFiresTheAlertNamingTheEndpoint(
      @TestNamespace String ns) throws IOException {
    PrometheusOperator.Generated generated =
        prometheusOperator.awaitGenerated(
            k,
            Helm.NAMESPACE,
            "k8s",
            g -> g.scrapes(Helm.NAMESPACE, RELEASE) && !g.rules().isEmpty());
    Path dir = WORK.resolve("prometheus");
    prometheus =
        PrometheusServer.start(
            dir,
            generated.forProcess(k, dir.resolve("rules"), Duration.ofSeconds(1)),
            PrometheusServer.firingAtOnce(generated.rules()));
    zoneB.addEgressRule("-p", "tcp", "--dport", "587", "-j", "DROP");
    steps.create(ns, "mail", perZone(ZONE_A.address()));
    steps.awaitRound(ns, "mail", null);

    JsonNode alert =
        await("SmtpSubmissionPortBlocked for " + ns + "/mail")
            .until(
                () ->
                    prometheus.alerts().stream()
                        .filter(
                            a ->
                                "SmtpSubmissionPortBlocked"
                                    .equals(a.at("/labels/alertname").asText()))
                        .filter(a -> "firing".equals(a.get("state").asText()))
                        .filter(a -> ns.equals(a.at("/labels/namespace").asText()))
                        .toList(),
                l -> !l.isEmpty())
            .get(0);

    assertThat(alert.at("/labels/endpoint").asText()).isEqualTo("mail");
    assertThat(alert.at("/labels/source").asText()).isEqualTo("zone-b");
    List<String> labels = new ArrayList<>();
    alert.get("labels").fieldNames().forEachRemaining(labels::add);
    assertThat(labels).noneMatch(l -> l.startsWith("exported_"));
    assertThat(
            prometheus.query(
                "smtp_reach_port_up{namespace=\"" + ns + "\",endpoint=\"mail\",port=\"587\"}"))
        .as("series keep the endpoint's namespace, not the operator pod's")
        .hasSize(2);
    assertThat(prometheus.query("smtp_reach_build_info"))
        .singleElement()
        .satisfies(
            b -> assertThat(b.at("/metric/version").asText()).isEqualTo(VersionProvider.version()));
    assertThat(
            prometheus.query(
                "smtp_reach_egress_listed{namespace=\""
                    + ns
                    + "\",endpoint=\"mail\",list=\""
                    + BLOCKLIST
                    + "\"}"))
        .as("port 25 delivers directly: each zone's address looked up on the list, not listed")
        .hasSize(2)
        .allSatisfy(r -> assertThat(r.at("/value/1").asText()).isEqualTo("0"));
    for (String q : PrometheusServer.dashboardQueries(ns)) {
      await("dashboard query " + q).until(() -> !prometheus.query(q).isEmpty());
    }
  }

  @Test
  @Order(4)
  void aShortHostNameIsResolvedThroughTheClusterResolversSearchDomains(@TestNamespace String ns) {
    String fqdn = "mail." + ns + ".svc.cluster.local";
    dnsA.a(fqdn, ZONE_A.address());
    SmtpEndpointSpec spec = inZoneA(spec("mail"));

    steps.create(ns, "short", spec);
    SmtpEndpointStatus s = steps.awaitRound(ns, "short", null);

    assertThat(port(s, 587).state).as(port(s, 587).message).isEqualTo("Reachable");
    assertThat(dnsA.queries(fqdn)).isNotEmpty();
  }

  @Test
  @Order(5)
  void aProbeKilledForMemoryIsNamedNotACrash(@TestNamespace String ns) {
    SmtpEndpointSpec spec = inZoneA(spec(ZONE_A.address()));
    spec.probe.resources =
        new ResourceRequirementsBuilder()
            .addToRequests("memory", new Quantity("16Mi"))
            .addToLimits("memory", new Quantity("16Mi"))
            .build();

    steps.create(ns, "small", spec);
    SmtpEndpointStatus s =
        steps.awaitCondition(ns, "small", ConditionTypes.PROBES_RUNNING, "False");

    assertThat(Conditions.find(s.conditions, ConditionTypes.PROBES_RUNNING).orElseThrow())
        .satisfies(c -> assertThat(c.getReason()).isEqualTo("ProbeOutOfMemory"))
        .satisfies(c -> assertThat(c.getMessage()).contains("limit of 16Mi"));
  }

  @Test
  @Order(6)
  void aProbePodKilledAtItsDeadlineTimedOut(@TestNamespace String ns) {
    // 2m of CPU: the JVM cannot start within 2 x 1s + the 30 s start allowance.
    SmtpEndpointSpec spec = inZoneA(spec(ZONE_A.address()));
    spec.timeout = "1s";
    spec.connectTimeout = "1s";
    spec.probe.resources =
        new ResourceRequirementsBuilder()
            .addToRequests("cpu", new Quantity("2m"))
            .addToLimits("cpu", new Quantity("2m"))
            .addToRequests("memory", new Quantity("128Mi"))
            .addToLimits("memory", new Quantity("128Mi"))
            .build();

    steps.create(ns, "slow", spec);
    SmtpEndpointStatus s =
        await("ProbesRunning=False after the pod's deadline")
            .atMost(Duration.ofMinutes(2))
            .until(
                () -> steps.get(ns, "slow").getStatus(),
                st ->
                    st != null
                        && Conditions.find(st.conditions, ConditionTypes.PROBES_RUNNING)
                            .filter(c -> c.getStatus().equals("False"))
                            .isPresent());

    assertThat(Conditions.find(s.conditions, ConditionTypes.PROBES_RUNNING).orElseThrow())
        .satisfies(c -> assertThat(c.getReason()).isEqualTo("ProbeTimedOut"));
  }

  @Test
  @Order(7)
  void theOperatorRestartedAfterLosingItsLeaseCarriesOnWithEveryEndpoint(@TestNamespace String ns)
      throws Exception {
    steps.create(ns, "mail", perZone(ZONE_A.address()));
    String first = steps.awaitRound(ns, "mail", null).lastProbeTime;
    Pod operator = operatorPod();
    int restarts = operator.getStatus().getContainerStatuses().get(0).getRestartCount();

    cluster.freezeApiServer(Duration.ofSeconds(90));
    Instant recovered = Instant.now();

    await("the kubelet restarts the operator, which lost its lease")
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                operatorPod().getStatus().getContainerStatuses().get(0).getRestartCount()
                    > restarts);
    SmtpEndpointStatus s =
        await("a round after the outage, within one interval")
            .atMost(INTERVAL.plusSeconds(60))
            .until(
                () -> steps.get(ns, "mail").getStatus(),
                st ->
                    st != null
                        && EndpointSteps.idle(st)
                        && st.lastProbeTime != null
                        && !st.lastProbeTime.equals(first)
                        && Instant.parse(st.lastProbeTime).isAfter(recovered.minusSeconds(1)));
    assertThat(port(s, 587).sources)
        .extracting(src -> src.name + "=" + src.state)
        .containsExactlyInAnyOrder("zone-a=Reachable", "zone-b=Reachable");
  }

  @Test
  @Order(8)
  void residentAgentsProbeEachZonesEgressWithoutAPodPerRound(@TestNamespace String ns) {
    zoneB.addEgressRule("-p", "tcp", "--dport", "587", "-j", "DROP");
    steps.create(ns, "relay", agentPerZone(ZONE_A.address()));

    SmtpEndpointStatus s = steps.awaitRound(ns, "relay", null);

    assertThat(port(s, 587).sources)
        .extracting(src -> src.name + "@" + src.node + "=" + src.state + " via " + src.via)
        .containsExactlyInAnyOrder(
            "zone-a@real-a=Reachable via Agent", "zone-b@real-b=Blocked via Agent");
    assertThat(port(s, 465).sources)
        .allSatisfy(src -> assertThat(src.state).isEqualTo("Reachable"));
    assertThat(k.pods().inNamespace(ns).list().getItems()).as("no probe pod").isEmpty();
    List<Pod> agents =
        k.pods()
            .inNamespace(Helm.NAMESPACE)
            .withLabel("app.kubernetes.io/name", "smtp-reach-agent")
            .list()
            .getItems();
    assertThat(agents)
        .extracting(p -> p.getSpec().getNodeName())
        .containsExactlyInAnyOrder(ZONE_A.name(), ZONE_B.name());
    for (Pod p : agents) {
      Container c = p.getSpec().getContainers().get(0);
      assertThat(p.getSpec().getAutomountServiceAccountToken()).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(p.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    }

    // The next round reuses the agents: no pod, no new agent.
    SmtpEndpointStatus again = steps.probeNow(ns, "relay");
    assertThat(source(port(again, 587), "zone-b").state).isEqualTo("Blocked");
    assertThat(
            k.pods()
                .inNamespace(Helm.NAMESPACE)
                .withLabel("app.kubernetes.io/name", "smtp-reach-agent")
                .list()
                .getItems())
        .extracting(p -> p.getMetadata().getUid())
        .containsExactlyInAnyOrderElementsOf(
            agents.stream().map(p -> p.getMetadata().getUid()).toList());
  }

  @Test
  @Order(9)
  void anUnreachableAgentIsASourceThatDidNotRunNeverAPortChange(@TestNamespace String ns) {
    zoneB.addEgressRule("-p", "tcp", "--dport", "587", "-j", "DROP");
    steps.create(ns, "relay", agentPerZone(ZONE_A.address()));
    SmtpEndpointStatus first = steps.awaitRound(ns, "relay", null);
    assertThat(source(port(first, 587), "zone-b").state).isEqualTo("Blocked");

    // The agent of the zone the operator does not run in answers the operator no more: its
    // replies are dropped on their way out of its zone (the kubelet's probes still pass).
    Pod operator = operatorPod();
    boolean operatorInA = operator.getSpec().getNodeName().equals(ZONE_A.name());
    RealNode cutOff = operatorInA ? zoneB : zoneA;
    String cut = operatorInA ? "zone-b" : "zone-a";
    cutOff.addEgressRule(
        "-p", "tcp", "--sport", "8440", "-d", operator.getStatus().getPodIP(), "-j", "DROP");
    try {
      SmtpEndpointStatus s = steps.probeNow(ns, "relay");

      assertThat(Conditions.find(s.conditions, ConditionTypes.PROBES_RUNNING))
          .hasValueSatisfying(
              c -> {
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("AgentUnavailable");
                assertThat(c.getMessage()).contains(cut);
              });
      assertThat(source(port(s, 587), cut).state).isEqualTo(source(port(first, 587), cut).state);
      assertThat(source(port(s, 587), cut).since).isEqualTo(source(port(first, 587), cut).since);
    } finally {
      cutOff.clearEgressRules();
    }
  }

  @Test
  @Order(10)
  void port25BlockedOnACloudNodeSaysWhyAndEachZoneSaysWhichAddressItSendsFrom(
      @TestNamespace String ns) {
    // zone-b's node as a GKE node would be: its providerID names Google Cloud, which blocks 25.
    k.nodes()
        .withName(ZONE_B.name())
        .edit(
            n -> {
              if (n.getSpec().getProviderID() == null) {
                n.getSpec().setProviderID("gce://smtp-reach-test/europe-west1-b/" + ZONE_B.name());
              }
              return n;
            });
    zoneB.addEgressRule("-p", "tcp", "--dport", "25", "-j", "DROP");
    SmtpEndpointSpec spec = agentPerZone(ZONE_A.address());
    spec.ports = List.of(new io.smtpreach.api.PortSpec(25, io.smtpreach.api.TlsMode.Auto, null));
    steps.create(ns, "direct", spec);

    SmtpEndpointStatus s = steps.awaitRound(ns, "direct", null);

    assertThat(source(port(s, 25), "zone-b").state).isEqualTo("Blocked");
    assertThat(source(port(s, 25), "zone-b").message)
        .contains("Google Cloud")
        .contains("https://cloud.google.com/")
        .contains("587");
    assertThat(source(port(s, 25), "zone-a").message).doesNotContain("Google Cloud");
    // Postfix does not echo the client's address: the agent's own, said to be local.
    assertThat(s.egress)
        .filteredOn(e -> e.source.equals("zone-a"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.address).startsWith("198.18.101.");
              assertThat(e.seenBy).isEqualTo("Local");
            });
  }

  @Test
  @Order(100)
  void uninstallingAndStoppingTheNodesLeavesTheHostAsItWas() {
    var uninstall =
        ProcessRunner.run(
            List.of(
                Helm.binary().toString(),
                "uninstall",
                RELEASE,
                "--kubeconfig",
                cluster.kubeconfig().toString(),
                "--namespace",
                Helm.NAMESPACE,
                "--wait",
                "--timeout",
                "2m"),
            180);
    assertThat(uninstall.exitCode()).as(uninstall.output()).isZero();
    await("the agents the operator made go with it")
        .until(
            () ->
                k.apps().deployments().inNamespace(Helm.NAMESPACE).list().getItems().isEmpty()
                    && k.pods().inNamespace(Helm.NAMESPACE).list().getItems().isEmpty());
    dnsA.close();
    dnsB.close();

    nodesStopped = true;
    ProcessRunner.Result b = zoneB.stop();
    ProcessRunner.Result a = zoneA.stop();

    assertThat(b.exitCode()).as(b.output()).isZero();
    assertThat(a.exitCode()).as(a.output()).isZero();
    assertThat(HostState.capture()).isEqualTo(before);
  }

  private static Pod operatorPod() {
    List<Pod> pods =
        k.pods()
            .inNamespace(Helm.NAMESPACE)
            .withLabel("app.kubernetes.io/name", "smtp-reach")
            .list()
            .getItems();
    assertThat(pods).hasSize(1);
    return pods.get(0);
  }

  /** Every probe pod of {@code ns} in its last state seen before deletion, by name. */
  private static Map<String, Pod> watchProbePods(String ns) {
    Map<String, Pod> seen = new ConcurrentHashMap<>();
    Watch unused =
        k.pods()
            .inNamespace(ns)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {
                    if (action != Action.DELETED) {
                      seen.put(pod.getMetadata().getName(), pod);
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
    return seen;
  }

  private static SmtpEndpointSpec spec(String host) {
    return EndpointSteps.postfix(host);
  }

  private static SmtpEndpointSpec perZone(String host) {
    return EndpointSteps.postfixPerZone(host);
  }

  /** Postfix from every zone, by the zones' agents: no credential, no CA from a ConfigMap. */
  private static SmtpEndpointSpec agentPerZone(String host) {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = host;
    spec.connectTimeout = "3s";
    spec.ports =
        List.of(
            new io.smtpreach.api.PortSpec(587, io.smtpreach.api.TlsMode.StartTLS, null),
            new io.smtpreach.api.PortSpec(465, io.smtpreach.api.TlsMode.Implicit, null));
    spec.tls = new io.smtpreach.api.TlsSpec();
    spec.tls.insecureSkipVerify = true; // the test CA would come from a ConfigMap
    spec.probe = new io.smtpreach.api.ProbeSpec();
    spec.probe.mode = io.smtpreach.api.ProbeMode.Agent;
    spec.probe.placement = io.smtpreach.api.Placement.PerNodeGroup;
    spec.probe.nodeLabel = "topology.kubernetes.io/zone";
    return spec;
  }

  private static SmtpEndpointSpec inZoneA(SmtpEndpointSpec spec) {
    spec.probe.nodeSelector = Map.of("topology.kubernetes.io/zone", ZONE_A.zone());
    return spec;
  }

  private static PortStatus port(SmtpEndpointStatus s, int port) {
    return s.ports.stream().filter(p -> p.port == port).findFirst().orElseThrow();
  }

  private static io.smtpreach.api.SourceStatus source(PortStatus p, String name) {
    return p.sources.stream().filter(s -> s.name.equals(name)).findFirst().orElseThrow();
  }
}
