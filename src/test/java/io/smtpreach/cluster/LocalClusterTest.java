package io.smtpreach.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.smtpreach.peers.NetworkNamespace;
import io.smtpreach.probe.MalformedReportException;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.ReportCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The harness itself, as a specification: a real API server validates and authorizes, the real
 * scheduler places pods on process nodes, the real garbage collector deletes dependents, and a
 * node's network namespace decides what its pods can reach.
 */
@WithLocalCluster
class LocalClusterTest {
  private static final int SUBNET = 91;
  private static NetworkNamespace netns;
  private static ProcessNode open;
  private static ProcessNode firewalled;

  @BeforeAll
  static void nodes(LocalCluster cluster) {
    NetworkNamespace.requireSupport();
    netns = NetworkNamespace.create(SUBNET);
    ImageMap images = ImageMap.standard();
    open = cluster.startNode(new ProcessNode.NodeConfig("node-a", "zone-a", "open", null), images);
    firewalled =
        cluster.startNode(
            new ProcessNode.NodeConfig("node-b", "zone-b", "firewalled", netns), images);
    Awaitility.setDefaultPollInterval(Duration.ofMillis(200));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(60));
  }

  @AfterAll
  static void removeNamespace() {
    if (netns != null) {
      netns.close();
    }
    Awaitility.reset();
  }

  @Test
  void celValidationRuleRejectsABadObjectWithTheServersMessage(LocalCluster cluster) {
    KubernetesClient k = cluster.client();
    JSONSchemaProps integer = new JSONSchemaPropsBuilder().withType("integer").build();
    CustomResourceDefinition crd =
        new CustomResourceDefinitionBuilder()
            .withNewMetadata()
            .withName("ranges.test.smtpreach.io")
            .endMetadata()
            .withNewSpec()
            .withGroup("test.smtpreach.io")
            .withScope("Namespaced")
            .withNewNames()
            .withKind("Range")
            .withPlural("ranges")
            .withSingular("range")
            .endNames()
            .addNewVersion()
            .withName("v1")
            .withServed(true)
            .withStorage(true)
            .withNewSchema()
            .withNewOpenAPIV3Schema()
            .withType("object")
            .addToProperties(
                "spec",
                new JSONSchemaPropsBuilder()
                    .withType("object")
                    .addToProperties("min", integer)
                    .addToProperties("max", integer)
                    .addToXKubernetesValidations(
                        new ValidationRuleBuilder()
                            .withRule("self.min <= self.max")
                            .withMessage("min must not be greater than max")
                            .build())
                    .build())
            .endOpenAPIV3Schema()
            .endSchema()
            .endVersion()
            .endSpec()
            .build();
    k.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    await()
        .until(
            () ->
                k
                    .apiextensions()
                    .v1()
                    .customResourceDefinitions()
                    .withName(crd.getMetadata().getName())
                    .get()
                    .getStatus()
                    .getConditions()
                    .stream()
                    .anyMatch(
                        c -> c.getType().equals("Established") && c.getStatus().equals("True")));
    var ranges =
        k.genericKubernetesResources("test.smtpreach.io/v1", "Range").inNamespace("default");
    var bad =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("test.smtpreach.io/v1")
            .withKind("Range")
            .withNewMetadata()
            .withName("bad")
            .endMetadata()
            .withAdditionalProperties(Map.of("spec", Map.of("min", 5, "max", 1)))
            .build();

    assertThatThrownBy(() -> ranges.resource(bad).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec: Invalid value")
        .hasMessageContaining("min must not be greater than max");
  }

  @Test
  void schedulerPlacesAPodByNodeSelectorAndItEndsWithItsTerminationMessage(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    k.secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("creds")
                .endMetadata()
                .addToStringData("password", "s3cret")
                .build())
        .create();
    k.configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("settings")
                .endMetadata()
                .addToData("mode", "strict")
                .build())
        .create();
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("hello")
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .addToNodeSelector(ProcessNode.POOL_LABEL, "firewalled")
            .addNewContainer()
            .withName("main")
            .withImage("busybox:1.36")
            .withCommand("sh", "-c")
            .withArgs(
                "printf '%s' \"$(POD_NAMESPACE)/$POD_NAME $PASSWORD $MODE\" > /dev/termination-log")
            .addNewEnv()
            .withName("POD_NAME")
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.name")
            .endFieldRef()
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("POD_NAMESPACE")
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.namespace")
            .endFieldRef()
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("PASSWORD")
            .withNewValueFrom()
            .withNewSecretKeyRef()
            .withName("creds")
            .withKey("password")
            .endSecretKeyRef()
            .endValueFrom()
            .endEnv()
            .addNewEnv()
            .withName("MODE")
            .withNewValueFrom()
            .withNewConfigMapKeyRef()
            .withName("settings")
            .withKey("mode")
            .endConfigMapKeyRef()
            .endValueFrom()
            .endEnv()
            .endContainer()
            .endSpec()
            .build();

    k.pods().inNamespace(ns).resource(pod).create();

    Pod done = awaitPhase(k, ns, "hello", "Succeeded");
    assertThat(done.getSpec().getNodeName()).isEqualTo(firewalled.name());
    assertThat(done.getStatus().getPodIP()).isEqualTo(netns.address());
    ContainerState state = done.getStatus().getContainerStatuses().get(0).getState();
    assertThat(state.getTerminated().getExitCode()).isZero();
    assertThat(state.getTerminated().getReason()).isEqualTo("Completed");
    assertThat(state.getTerminated().getMessage()).isEqualTo(ns + "/hello s3cret strict");
  }

  @Test
  void smtpReachImageRunsTheCommandFromTheTestClassPath(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    k.pods()
        .inNamespace(ns)
        .resource(
            pod("version", "ghcr.io/smtp-reach/smtp-reach:dev", open)
                .editSpec()
                .editFirstContainer()
                .withArgs("--version")
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .endContainer()
                .endSpec()
                .build())
        .create();

    Pod done = awaitPhase(k, ns, "version", "Succeeded");
    assertThat(
            done.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode())
        .isZero();
  }

  @Test
  void podOwnedByADeletedConfigMapIsGarbageCollected(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    ConfigMap owner =
        k.configMaps()
            .inNamespace(ns)
            .resource(
                new ConfigMapBuilder().withNewMetadata().withName("owner").endMetadata().build())
            .create();
    k.pods()
        .inNamespace(ns)
        .resource(
            pod("dependent", "busybox:1.36", open)
                .editMetadata()
                .addNewOwnerReference()
                .withApiVersion("v1")
                .withKind("ConfigMap")
                .withName("owner")
                .withUid(owner.getMetadata().getUid())
                .endOwnerReference()
                .endMetadata()
                .editSpec()
                .editFirstContainer()
                .withCommand("sleep", "300")
                .endContainer()
                .endSpec()
                .build())
        .create();
    String uid = awaitPhase(k, ns, "dependent", "Running").getMetadata().getUid();
    assertThat(open.runs(uid)).isTrue();

    k.configMaps().inNamespace(ns).withName("owner").delete();

    await().until(() -> k.pods().inNamespace(ns).withName("dependent").get() == null);
    await().until(() -> !open.runs(uid));
  }

  @Test
  void aPortDroppedOnOneNodeIsUnreachableFromItsPodsOnly(
      LocalCluster cluster, @TestNamespace String ns) throws IOException {
    KubernetesClient k = cluster.client();
    try (ServerSocket listener =
        new ServerSocket(0, 50, InetAddress.getByName(netns.hostAddress()))) {
      int port = listener.getLocalPort();
      netns.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", String.valueOf(port), "-j", "DROP");
      try {
        String connect =
            "exec 3<>/dev/tcp/"
                + netns.hostAddress()
                + "/"
                + port
                + " && echo connected > /dev/termination-log";
        for (ProcessNode node : List.of(open, firewalled)) {
          k.pods()
              .inNamespace(ns)
              .resource(
                  pod("connect-" + node.name(), "busybox:1.36", node)
                      .editSpec()
                      .editFirstContainer()
                      .withCommand("timeout", "3", "bash", "-c", connect)
                      .withTerminationMessagePolicy("FallbackToLogsOnError")
                      .endContainer()
                      .endSpec()
                      .build())
              .create();
        }

        Pod fromOpen = awaitPhase(k, ns, "connect-" + open.name(), "Succeeded");
        Pod fromFirewalled = awaitPhase(k, ns, "connect-" + firewalled.name(), "Failed");
        assertThat(
                fromOpen
                    .getStatus()
                    .getContainerStatuses()
                    .get(0)
                    .getState()
                    .getTerminated()
                    .getMessage())
            .isEqualTo("connected\n");
        var blocked =
            fromFirewalled.getStatus().getContainerStatuses().get(0).getState().getTerminated();
        assertThat(blocked.getExitCode()).isEqualTo(124); // timeout(1): the connect hung
        assertThat(blocked.getReason()).isEqualTo("Error");
      } finally {
        netns.flush();
      }
    }
  }

  @Test
  void probePodsReportThePortDroppedOnTheirNodeAsBlockedInTheirTerminationMessage(
      LocalCluster cluster, @TestNamespace String ns) throws Exception {
    KubernetesClient k = cluster.client();
    try (ServerSocket smtp = new ServerSocket(0, 50, InetAddress.getByName(netns.hostAddress()))) {
      Thread server = new Thread(() -> greetWith554(smtp), "smtp-554");
      server.setDaemon(true);
      server.start();
      int port = smtp.getLocalPort();
      netns.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", String.valueOf(port), "-j", "DROP");
      try {
        for (ProcessNode node : List.of(open, firewalled)) {
          k.pods()
              .inNamespace(ns)
              .resource(
                  pod("probe-" + node.name(), "ghcr.io/smtp-reach/smtp-reach:dev", node)
                      .editSpec()
                      .editFirstContainer()
                      .withArgs(
                          "probe",
                          netns.hostAddress(),
                          "-p",
                          port + ":none",
                          "--connect-timeout",
                          "2s",
                          "--result-file",
                          "/dev/termination-log")
                      .endContainer()
                      .endSpec()
                      .build())
              .create();
        }

        // Exit code 1 (not as expected) either way: the pod fails, its message is the report.
        Reason fromOpen = probedReason(awaitPhase(k, ns, "probe-" + open.name(), "Failed"));
        Reason fromFirewalled =
            probedReason(awaitPhase(k, ns, "probe-" + firewalled.name(), "Failed"));
        assertThat(fromOpen).isEqualTo(Reason.GREETING_REJECTED);
        assertThat(fromFirewalled).isEqualTo(Reason.CONNECT_TIMEOUT);
      } finally {
        netns.flush();
      }
    }
  }

  private static void greetWith554(ServerSocket server) {
    while (!server.isClosed()) {
      try (Socket client = server.accept()) {
        client
            .getOutputStream()
            .write("554 5.7.1 no service\r\n".getBytes(StandardCharsets.US_ASCII));
      } catch (IOException e) {
        return; // closed at the end of the test
      }
    }
  }

  private static Reason probedReason(Pod pod) throws MalformedReportException {
    String message =
        pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getMessage();
    return ReportCodec.decode(message).results().get(0).reason();
  }

  @Test
  void activeDeadlineSecondsFailsThePodWithDeadlineExceeded(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    k.pods()
        .inNamespace(ns)
        .resource(
            pod("slow", "busybox:1.36", open)
                .editSpec()
                .withActiveDeadlineSeconds(2L)
                .editFirstContainer()
                .withCommand("sleep", "300")
                .endContainer()
                .endSpec()
                .build())
        .create();

    Pod failed = awaitPhase(k, ns, "slow", "Failed");
    assertThat(failed.getStatus().getReason()).isEqualTo("DeadlineExceeded");
    assertThat(failed.getStatus().getContainerStatuses().get(0).getState().getTerminated())
        .isNotNull();
  }

  @Test
  void anUnknownImageCannotBePulledAndThePodStaysPending(
      LocalCluster cluster, @TestNamespace String ns) {
    KubernetesClient k = cluster.client();
    k.pods()
        .inNamespace(ns)
        .resource(pod("nope", "registry.invalid/nope:1", open).build())
        .create();

    await()
        .until(
            () -> {
              Pod p = k.pods().inNamespace(ns).withName("nope").get();
              var statuses = p.getStatus().getContainerStatuses();
              return statuses != null
                  && !statuses.isEmpty()
                  && statuses.get(0).getState().getWaiting() != null
                  && "ErrImagePull".equals(statuses.get(0).getState().getWaiting().getReason());
            });
    assertThat(k.pods().inNamespace(ns).withName("nope").get().getStatus().getPhase())
        .isEqualTo("Pending");
  }

  @Test
  void aServiceAccountKubeconfigHasExactlyThatAccountsPermissions(
      LocalCluster cluster, @TestNamespace String ns, @TestNamespace String other) {
    KubernetesClient admin = cluster.client();
    admin
        .serviceAccounts()
        .inNamespace(ns)
        .resource(
            new ServiceAccountBuilder().withNewMetadata().withName("reader").endMetadata().build())
        .create();
    admin
        .rbac()
        .roles()
        .inNamespace(ns)
        .resource(
            new RoleBuilder()
                .withNewMetadata()
                .withName("pod-reader")
                .endMetadata()
                .addNewRule()
                .withApiGroups("")
                .withResources("pods")
                .withVerbs("get", "list")
                .endRule()
                .build())
        .create();
    admin
        .rbac()
        .roleBindings()
        .inNamespace(ns)
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("reader")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", "pod-reader")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("reader")
                .withNamespace(ns)
                .endSubject()
                .build())
        .create();

    try (KubernetesClient reader = LocalCluster.clientFor(cluster.kubeconfigFor(ns, "reader"))) {
      assertThat(reader.pods().inNamespace(ns).list().getItems()).isEmpty();
      assertThatThrownBy(() -> reader.secrets().inNamespace(other).list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403))
          .hasMessageContaining(
              "system:serviceaccount:" + ns + ":reader\" cannot list resource \"secrets\"");
      assertThatThrownBy(() -> reader.secrets().inNamespace(ns).list())
          .isInstanceOfSatisfying(
              KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(403));
    }
  }

  private static PodBuilder pod(String name, String image, ProcessNode node) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .addToNodeSelector("kubernetes.io/hostname", node.name())
        .addNewContainer()
        .withName("main")
        .withImage(image)
        .endContainer()
        .endSpec();
  }

  private static Pod awaitPhase(KubernetesClient k, String ns, String name, String phase) {
    return await("pod " + ns + "/" + name + " " + phase)
        .until(
            () -> k.pods().inNamespace(ns).withName(name).get(),
            p -> p != null && p.getStatus() != null && phase.equals(p.getStatus().getPhase()));
  }
}
