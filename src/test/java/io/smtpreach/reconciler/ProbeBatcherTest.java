package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** Which rounds end up in which pod; the API server is a function here, its pods a list. */
class ProbeBatcherTest {
  private static final ProbeSource ANY = new ProbeSource("any", Map.of());
  private final List<Pod> created = new CopyOnWriteArrayList<>();
  private final List<Pod> cached = new CopyOnWriteArrayList<>();

  private ProbeBatcher batcher(int size, UnaryOperator<Pod> server) {
    return new ProbeBatcher(
        new ProbePodFactory(TestOperatorConfig.DEFAULTS),
        server,
        size,
        Duration.ofMillis(300),
        (owner, pod) -> cached.add(pod));
  }

  private UnaryOperator<Pod> accepting() {
    return pod -> {
      created.add(pod);
      return pod;
    };
  }

  @Test
  void alikeRoundsShareAPodUpToTheBatchSizeAndTheRestFollowWhenTheWindowEnds() {
    ProbeBatcher batcher = batcher(3, accepting());
    // "a" is asked for again before its pod exists (a second reconcile): gathered once.
    for (String name : List.of("a", "a", "b", "c", "d")) {
      batcher.submit(member(name, null), ANY, false);
    }

    await().until(() -> created.size() == 2);
    assertThat(created)
        .extracting(ProbePodReader::members)
        .containsExactly(Map.of("a", "r-a", "b", "r-b", "c", "r-c"), Map.of("d", "r-d"));
    assertThat(cached).as("each pod put in the informer's cache").hasSize(2);
  }

  @Test
  void aRoundSomeoneAskedForDoesNotWaitForTheWindow() {
    ProbeBatcher batcher =
        new ProbeBatcher(
            new ProbePodFactory(TestOperatorConfig.DEFAULTS),
            accepting(),
            8,
            Duration.ofHours(1),
            (owner, pod) -> cached.add(pod));
    batcher.submit(member("a", null), ANY, false);
    batcher.submit(member("b", null), ANY, true);

    await().until(() -> created.size() == 1);
    assertThat(ProbePodReader.members(created.get(0))).containsOnlyKeys("a", "b");
  }

  @Test
  void roundsWhosePodsWouldDifferNeverShareOne() {
    ProbeBatcher batcher = batcher(8, accepting());
    batcher.submit(member("a", null), ANY, false);
    batcher.submit(member("b", Map.of("team", "b")), ANY, false);
    batcher.submit(member("c", null), new ProbeSource("zone-b", Map.of("zone", "b")), false);

    await().until(() -> created.size() == 3);
    assertThat(created).allSatisfy(p -> assertThat(ProbePodReader.members(p)).hasSize(1));
  }

  @Test
  void aRefusedPodIsRememberedForItsRounds() {
    ProbeBatcher batcher =
        batcher(
            8,
            pod -> {
              throw new KubernetesClientException(
                  new StatusBuilder()
                      .withCode(403)
                      .withMessage("exceeded quota: pods, requested: pods=1, used: pods=10")
                      .build());
            });
    batcher.submit(member("a", null), ANY, false);

    await()
        .untilAsserted(
            () ->
                assertThat(batcher.refused("team", "a", "r-a", "any"))
                    .hasValue("exceeded quota: pods, requested: pods=1, used: pods=10"));
    batcher.forget("team", "a", "r-a", List.of("any"));
    assertThat(batcher.refused("team", "a", "r-a", "any")).isEmpty();
  }

  @Test
  void aPodTheApiServerCouldNotCreateForNowIsNotRefusedAndIsAskedForAgain() {
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    ProbeBatcher batcher =
        batcher(
            8,
            pod -> {
              attempts.add(attempts.size());
              if (attempts.size() == 1) {
                throw new KubernetesClientException(
                    new StatusBuilder()
                        .withCode(503)
                        .withMessage("etcdserver: leader changed")
                        .build());
              }
              created.add(pod);
              return pod;
            });
    batcher.submit(member("a", null), ANY, true);
    await().until(() -> attempts.size() == 1);
    assertThat(batcher.refused("team", "a", "r-a", "any")).isEmpty();

    // The reconciler asks again on its next recheck, once the failed attempt is done with.
    await()
        .untilAsserted(
            () -> {
              if (created.isEmpty()) {
                batcher.submit(member("a", null), ANY, true);
              }
              assertThat(created).isNotEmpty();
            });
    assertThat(batcher.refused("team", "a", "r-a", "any")).isEmpty();
  }

  @Test
  void theRoundsOfEveryPodItCreatedAreRememberedUntilForgotten() {
    ProbeBatcher batcher = batcher(8, accepting());
    batcher.submit(member("a", null), ANY, true);

    await().until(() -> batcher.created("team", "a", "r-a", "any"));
    assertThat(batcher.created("team", "a", "r-a", "zone-b")).isFalse();
    batcher.forget("team", "a", "r-a", List.of("any"));
    assertThat(batcher.created("team", "a", "r-a", "any")).isFalse();
  }

  private static ProbePodFactory.Member member(String name, Map<String, String> labels) {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    if (labels != null) {
      spec.probe = new ProbeSpec();
      spec.probe.labels = labels;
    }
    SmtpEndpoint ep = ProbePodFactoryTest.endpoint(spec);
    ep.getMetadata().setName(name);
    return new ProbePodFactory.Member(
        ep, ProbeSettings.of(ep, TestOperatorConfig.DEFAULTS), "r-" + name);
  }
}
