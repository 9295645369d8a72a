package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Whoever may create pods in a namespace must not be able to forge another team's status: only a
 * pod the operator built, unchanged, for this incarnation of the endpoint is read as a result.
 */
class PodSignatureTest {
  private static final byte[] KEY =
      "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private final PodSignature signature = new PodSignature(KEY);
  private final ProbePodFactory factory = new ProbePodFactory(TestOperatorConfig.DEFAULTS);
  private static final String ZONE = "topology.kubernetes.io/zone";
  private final SmtpEndpoint endpoint = endpoint("uid-1");

  @Test
  void aPodTheOperatorBuiltIsTrustedForItsEndpoint() {
    Pod pod = signature.sign(built());

    assertThat(signature.trusted(pod, endpoint)).isTrue();
  }

  @Test
  void aPodWithTheLabelsButNoSignatureIsNotAResult() {
    assertThat(signature.trusted(built(), endpoint)).isFalse();
  }

  @Test
  void aSignedPodIsNotTrustedByARecreatedEndpointOfTheSameName() {
    Pod pod = signature.sign(built());

    assertThat(signature.trusted(pod, endpoint("uid-2"))).isFalse();
  }

  @Test
  void anyChangeToWhatDecidesTheResultBreaksTheSignature() {
    Pod pod = signature.sign(built());
    Map<String, UnaryOperator<PodBuilder>> changes =
        Map.of(
            "image",
                p -> p.editSpec().editFirstContainer().withImage("evil:1").endContainer().endSpec(),
            "args",
                p ->
                    p.editSpec()
                        .editFirstContainer()
                        .addToArgs("--insecure")
                        .endContainer()
                        .endSpec(),
            "sidecar",
                p -> p.editSpec().addNewContainer().withName("side").endContainer().endSpec(),
            "init container",
                p -> p.editSpec().addNewInitContainer().withName("i").endInitContainer().endSpec(),
            "volume", p -> p.editSpec().addNewVolume().withName("v").endVolume().endSpec(),
            "node selector", p -> p.editSpec().addToNodeSelector(ZONE, "zone-a").endSpec(),
            "source",
                p ->
                    p.editMetadata()
                        .addToAnnotations(ProbePodFactory.SOURCE_ANNOTATION, "zone-z")
                        .endMetadata(),
            "members",
                p ->
                    p.editMetadata()
                        .addToAnnotations(ProbePodFactory.MEMBERS_ANNOTATION, "mail=x")
                        .endMetadata(),
            "name", p -> p.editMetadata().withName("smtp-reach-probe-000000000000").endMetadata());

    changes.forEach(
        (what, change) ->
            assertThat(signature.trusted(change.apply(new PodBuilder(pod)).build(), endpoint))
                .as(what)
                .isFalse());
  }

  @Test
  void whatTheApiServerAddsDoesNotBreakIt() {
    Pod pod = signature.sign(built());
    Pod live =
        edit(
            pod,
            p ->
                p.editMetadata()
                    .withUid("pod-uid")
                    .withResourceVersion("42")
                    .withCreationTimestamp("2026-11-30T10:00:00Z")
                    .endMetadata()
                    .editSpec()
                    .withNodeName("node-a")
                    .withSchedulerName("default-scheduler")
                    .editFirstContainer()
                    .withImagePullPolicy("IfNotPresent")
                    .endContainer()
                    .endSpec()
                    .withNewStatus()
                    .withPhase("Succeeded")
                    .endStatus());

    assertThat(signature.trusted(live, endpoint)).isTrue();
  }

  @Test
  void anotherOperatorsKeyDoesNotVerify() {
    Pod pod =
        new PodSignature("another key, another operator!!!".getBytes(StandardCharsets.UTF_8))
            .sign(built());

    assertThat(signature.trusted(pod, endpoint)).isFalse();
  }

  private Pod built() {
    var settings = ProbeSettings.of(endpoint, TestOperatorConfig.DEFAULTS);
    return factory.build(
        List.of(new ProbePodFactory.Member(endpoint, settings, "abc123")),
        new ProbeSource("zone-b", Map.of(ZONE, "zone-b")));
  }

  private static Pod edit(Pod pod, UnaryOperator<PodBuilder> change) {
    return change.apply(new PodBuilder(pod)).build();
  }

  private static SmtpEndpoint endpoint(String uid) {
    SmtpEndpoint ep = new SmtpEndpoint();
    ep.setMetadata(
        new ObjectMetaBuilder().withName("mail").withNamespace("team-a").withUid(uid).build());
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = "smtp.example.com";
    ep.setSpec(spec);
    return ep;
  }
}
