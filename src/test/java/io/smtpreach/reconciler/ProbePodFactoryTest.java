package io.smtpreach.reconciler;

import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.smtpreach.api.AuthSpec;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.Expectation;
import io.smtpreach.api.IpFamily;
import io.smtpreach.api.PortSpec;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.TlsMode;
import io.smtpreach.api.TlsSpec;
import io.smtpreach.cli.Main;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.peers.FaultServer;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.probe.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** The probe pod: locked down, credentials by reference only, the spec as command arguments. */
class ProbePodFactoryTest {
  private static final ProbeSource ANY = new ProbeSource("any", Map.of());
  private final ProbePodFactory factory = new ProbePodFactory(TestOperatorConfig.DEFAULTS);

  @Test
  void thePodIsLockedDownAndOwnedByItsEndpoint() {
    SmtpEndpoint ep = endpoint(new SmtpEndpointSpec());
    Pod pod = build(ep);

    assertThat(pod.getMetadata().getName())
        .isEqualTo(build(ep).getMetadata().getName())
        .matches("smtp-reach-probe-[0-9a-f]{12}");
    assertThat(pod.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("SmtpEndpoint");
              assertThat(o.getUid()).isEqualTo("uid-1");
              assertThat(o.getController()).isFalse();
            });
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "smtp-reach")
        .containsEntry("endpoint.smtpreach.io/mail", "abc123");
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("smtpreach.io/members", "mail=abc123");
    var spec = pod.getSpec();
    assertThat(spec.getRestartPolicy()).isEqualTo("Never");
    assertThat(spec.getAutomountServiceAccountToken()).isFalse();
    assertThat(spec.getActiveDeadlineSeconds()).isEqualTo(50L);
    assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(spec.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Container c = spec.getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("ghcr.io/smtp-reach/smtp-reach:test");
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getTerminationMessagePath()).isEqualTo("/dev/termination-log");
    assertThat(c.getResources().getLimits()).containsKey("memory");
    assertThat(c.getArgs())
        .startsWith("batch", "--result-file", "/dev/termination-log", "--")
        .contains("--port=587:starttls:reachable", "--port=25:auto:any")
        .endsWith("--", "smtp.example.com");
  }

  @Test
  void probePodsPullTheirImageWithTheConfiguredSecrets() {
    OperatorConfig privateRegistry =
        new TestOperatorConfig() {
          @Override
          public Optional<List<String>> probeImagePullSecrets() {
            return Optional.of(List.of("registry-a", "registry-b"));
          }
        };
    Pod pod =
        new ProbePodFactory(privateRegistry)
            .build(List.of(member(endpoint(new SmtpEndpointSpec()), "abc123")), ANY);

    assertThat(pod.getSpec().getImagePullSecrets())
        .extracting(LocalObjectReference::getName)
        .containsExactly("registry-a", "registry-b");
    assertThat(build(endpoint(new SmtpEndpointSpec())).getSpec().getImagePullSecrets())
        .as("none configured: none named")
        .isNullOrEmpty();
  }

  @Test
  void endpointsWhosePodsWouldBeAlikeShareOneAndKeepTheirOwnArguments() {
    SmtpEndpoint mail = endpoint(new SmtpEndpointSpec());
    SmtpEndpointSpec relaySpec = new SmtpEndpointSpec();
    relaySpec.host = "relay.example.com";
    relaySpec.ports = List.of(new PortSpec(465, null, null));
    SmtpEndpoint relay = named(endpoint(relaySpec), "relay", "uid-2");
    ProbeSource any = new ProbeSource("any", Map.of());
    ProbePodFactory.Member first = member(mail, "r1");
    ProbePodFactory.Member second = member(relay, "r2");
    assertThat(factory.template(first, any)).isEqualTo(factory.template(second, any));

    Pod pod = factory.build(List.of(first, second), any);

    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("smtpreach.io/members", "mail=r1 relay=r2");
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("endpoint.smtpreach.io/mail", "r1")
        .containsEntry("endpoint.smtpreach.io/relay", "r2");
    assertThat(pod.getMetadata().getOwnerReferences())
        .extracting(o -> o.getName())
        .containsExactly("mail", "relay");
    assertThat(pod.getSpec().getContainers().get(0).getArgs())
        .containsSequence("--", "smtp.example.com", "+", "--port=465:implicit:reachable")
        .endsWith("--", "relay.example.com");

    SmtpEndpointSpec withAuth = new SmtpEndpointSpec();
    withAuth.auth = new AuthSpec();
    withAuth.auth.secretRef = new AuthSpec.SecretRef();
    withAuth.auth.secretRef.name = "creds";
    SmtpEndpointSpec elsewhere = new SmtpEndpointSpec();
    elsewhere.probe = new ProbeSpec();
    elsewhere.probe.labels = Map.of("team", "b");
    assertThat(factory.template(member(named(endpoint(withAuth), "a", "u3"), "r"), any))
        .as("another Secret: another pod, so that a missing key fails only its endpoints")
        .isNotEqualTo(factory.template(first, any));
    assertThat(factory.template(member(named(endpoint(elsewhere), "b", "u4"), "r"), any))
        .isNotEqualTo(factory.template(first, any));
  }

  @Test
  void credentialsAndTheCaBundleAreSecretAndConfigMapReferencesOnly() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.auth = new AuthSpec();
    spec.auth.secretRef = new AuthSpec.SecretRef();
    spec.auth.secretRef.name = "creds";
    spec.auth.secretRef.passwordKey = "pw";
    spec.tls = new TlsSpec();
    spec.tls.caBundle = new CaBundleSource();
    spec.tls.caBundle.configMapKeyRef = new ConfigMapKeySelector("ca.pem", "corp-ca", false);
    List<EnvVar> env = build(endpoint(spec)).getSpec().getContainers().get(0).getEnv();

    assertThat(env)
        .filteredOn(e -> !e.getName().equals("SMTP_REACH_AUTH_USERNAME_LABEL"))
        .allSatisfy(e -> assertThat(e.getValue()).isNull());
    assertThat(env)
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("SMTP_REACH_AUTH_PASSWORD");
              assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("creds");
              assertThat(e.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("pw");
            })
        .anySatisfy(
            e -> assertThat(e.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("username"))
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("SMTP_REACH_CA_BUNDLE");
              assertThat(e.getValueFrom().getConfigMapKeyRef().getName()).isEqualTo("corp-ca");
            });
  }

  @Test
  void theProbeNamesTheUsernameByItsKeyAndSecretNeverByItsValue() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.auth = new AuthSpec();
    spec.auth.secretRef = new AuthSpec.SecretRef();
    spec.auth.secretRef.name = "api-tokens";
    spec.auth.secretRef.usernameKey = "apikey";
    List<EnvVar> env = build(endpoint(spec)).getSpec().getContainers().get(0).getEnv();

    assertThat(env)
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("SMTP_REACH_AUTH_USERNAME_LABEL");
              assertThat(e.getValue()).isEqualTo("key apikey of Secret api-tokens");
            });
    assertThat(env)
        .filteredOn(e -> e.getName().equals("SMTP_REACH_AUTH_USERNAME"))
        .singleElement()
        .satisfies(
            e -> assertThat(e.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("apikey"));
  }

  @Test
  void placementAndTheUsersSelectorsLabelsAndAnnotationsAreApplied() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.probe = new ProbeSpec();
    spec.probe.nodeSelector = Map.of("pool", "mail");
    spec.probe.labels = Map.of("app", "mailer", "app.kubernetes.io/managed-by", "someone-else");
    spec.probe.annotations = Map.of("egress.example/gateway", "nat-1");
    Pod pod =
        factory.build(
            List.of(member(endpoint(spec), "r1")),
            new ProbeSource("zone-b", Map.of("topology.kubernetes.io/zone", "zone-b")));
    assertThat(pod.getSpec().getNodeSelector())
        .containsEntry("pool", "mail")
        .containsEntry("topology.kubernetes.io/zone", "zone-b");
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("app", "mailer")
        .as("ours win: the informer selects on it")
        .containsEntry("app.kubernetes.io/managed-by", "smtp-reach");
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("egress.example/gateway", "nat-1")
        .containsEntry("smtpreach.io/source", "zone-b");
  }

  @Test
  void longNamesStayValidAndDistinct() {
    String name = "a".repeat(200);
    assertThat(ProbePodFactory.labelValue(name)).hasSizeLessThanOrEqualTo(63);
    assertThat(ProbePodFactory.labelValue(name))
        .isNotEqualTo(ProbePodFactory.labelValue(name + "b"));
  }

  @Test
  void theSpecBecomesProbeArgumentsWithTheOperatorsDefaults() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.ports =
        List.of(
            new PortSpec(465, null, null), new PortSpec(25, TlsMode.StartTLS, Expectation.Blocked));
    spec.interval = "1m30s";
    spec.timeout = "20s";
    spec.ipFamily = IpFamily.Each;
    spec.ehloName = "probe.example.com";
    ProbeSettings s = ProbeSettings.of(endpoint(spec), TestOperatorConfig.DEFAULTS);
    assertThat(s.interval()).isEqualTo(Duration.ofSeconds(90));
    assertThat(s.arguments())
        .containsExactly(
            "--port=465:implicit:reachable",
            "--port=25:starttls:blocked",
            "--timeout=20s",
            "--connect-timeout=5s",
            "--read-timeout=20s",
            "--ehlo=probe.example.com",
            "--ip-family=each",
            "--",
            "smtp.example.com");

    SmtpEndpointSpec mx = new SmtpEndpointSpec();
    mx.mxDomain = "example.com";
    assertThat(ProbeSettings.of(endpoint(mx), TestOperatorConfig.DEFAULTS).arguments())
        .containsExactly(
            "--mx=example.com",
            "--port=25:auto:reachable",
            "--timeout=10s",
            "--connect-timeout=5s",
            "--read-timeout=10s",
            "--ip-family=any");
  }

  @Test
  void theConfiguredBlocklistsGoToEndpointsThatDeliverDirectlyOnly() {
    TestOperatorConfig withLists =
        new TestOperatorConfig() {
          @Override
          public Optional<List<String>> dnsblZones() {
            return Optional.of(List.of("bl.example", "other.example"));
          }
        };
    SmtpEndpointSpec mx = new SmtpEndpointSpec();
    mx.mxDomain = "example.com";
    assertThat(ProbeSettings.of(endpoint(mx), withLists).arguments())
        .contains("--dnsbl=bl.example", "--dnsbl=other.example");
    SmtpEndpointSpec port25 = new SmtpEndpointSpec();
    port25.ports = List.of(new PortSpec(25, null, null));
    assertThat(ProbeSettings.of(endpoint(port25), withLists).arguments())
        .contains("--dnsbl=bl.example");
    SmtpEndpointSpec submission = new SmtpEndpointSpec();
    submission.ports = List.of(new PortSpec(587, null, null));
    assertThat(ProbeSettings.of(endpoint(submission), withLists).arguments())
        .noneMatch(a -> a.startsWith("--dnsbl"));
  }

  @Test
  void specStringsBecomeOptionValuesAndTheHostComesAfterTheEndOfOptions() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = "-p";
    spec.ehloName = "--insecure";
    spec.tls = new TlsSpec();
    spec.tls.serverName = "@/proc/self/environ";
    spec.tls.minVersion = "-p 1\n" + "x".repeat(4096);
    List<String> args = ProbeSettings.of(endpoint(spec), TestOperatorConfig.DEFAULTS).arguments();

    assertThat(args)
        .contains(
            "--ehlo=--insecure",
            "--server-name=@/proc/self/environ",
            "--min-tls=-p 1\n" + "x".repeat(4096))
        .doesNotContain("--insecure")
        .endsWith("--", "-p");
    assertThat(args.subList(0, args.size() - 2))
        .allSatisfy(a -> assertThat(a).startsWith("--").contains("="));
  }

  @Test
  void aVariableReferenceInTheSpecReachesTheProbeLiterallyNotExpandedByTheKubelet() {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.ehloName = "$(SMTP_REACH_AUTH_PASSWORD)";
    assertThat(build(endpoint(spec)).getSpec().getContainers().get(0).getArgs())
        .contains("--ehlo=$$(SMTP_REACH_AUTH_PASSWORD)")
        .doesNotContain("--ehlo=$(SMTP_REACH_AUTH_PASSWORD)");
  }

  @Test
  void theProbeReadsTheArgumentsOfAHostileSpecAsTheSpecSaidThem() throws Exception {
    Queue<String> heard = new ConcurrentLinkedQueue<>();
    try (FaultServer server = FaultServer.start(FaultServer.smtp(plain().heardInto(heard)))) {
      SmtpEndpointSpec spec = new SmtpEndpointSpec();
      spec.host = "127.0.0.1";
      spec.ports = List.of(new PortSpec(server.port(), TlsMode.None, null));
      spec.ehloName = "--insecure";
      Path result = Files.createTempFile("probe-result", ".txt");
      List<String> command = new ArrayList<>(List.of("batch", "--result-file", result.toString()));
      command.add("--");
      command.addAll(ProbeSettings.of(endpoint(spec), TestOperatorConfig.DEFAULTS).arguments());

      Main.run(command.toArray(String[]::new));

      assertThat(heard).contains("EHLO --insecure");
      assertThat(BatchCodec.decode(Files.readString(result)))
          .singleElement()
          .satisfies(e -> assertThat(e.report().results().get(0).reason()).isEqualTo(Reason.OK));
    }
  }

  @Test
  void aSpecTheApiServerShouldHaveRejectedIsAClearError() {
    SmtpEndpointSpec both = new SmtpEndpointSpec();
    both.host = "smtp.example.com";
    both.mxDomain = "example.com";
    assertThatThrownBy(() -> ProbeSettings.of(endpoint(both), TestOperatorConfig.DEFAULTS))
        .hasMessage("set exactly one of spec.host and spec.mxDomain");
    SmtpEndpointSpec slow = new SmtpEndpointSpec();
    slow.interval = "30s";
    slow.timeout = "1m";
    assertThatThrownBy(() -> ProbeSettings.of(endpoint(slow), TestOperatorConfig.DEFAULTS))
        .hasMessage("timeout must be shorter than interval");
    SmtpEndpointSpec separator = new SmtpEndpointSpec();
    separator.host = "+";
    assertThatThrownBy(() -> ProbeSettings.of(endpoint(separator), TestOperatorConfig.DEFAULTS))
        .hasMessageContaining("spec.host");
  }

  private Pod build(SmtpEndpoint ep) {
    return factory.build(List.of(member(ep, "abc123")), ANY);
  }

  private static ProbePodFactory.Member member(SmtpEndpoint ep, String round) {
    return new ProbePodFactory.Member(ep, ProbeSettings.of(ep, TestOperatorConfig.DEFAULTS), round);
  }

  private static SmtpEndpoint named(SmtpEndpoint ep, String name, String uid) {
    ep.getMetadata().setName(name);
    ep.getMetadata().setUid(uid);
    return ep;
  }

  static SmtpEndpoint endpoint(SmtpEndpointSpec spec) {
    if (spec.host == null && spec.mxDomain == null) {
      spec.host = "smtp.example.com";
    }
    SmtpEndpoint ep = new SmtpEndpoint();
    ep.setMetadata(
        new ObjectMetaBuilder().withName("mail").withNamespace("team").withUid("uid-1").build());
    ep.setSpec(spec);
    return ep;
  }
}
