package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.smtpreach.reconciler.ProbePodFactory.Member;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * Gathers the endpoints whose rounds start within a short window into shared probe pods: those
 * whose pods would be alike ({@link ProbePodFactory#template}) go into one pod, up to a batch size,
 * and the pod is created when the batch is full or the window ends. A round asked for twice before
 * its pod exists is gathered once. A pod the API server refuses (a quota, an admission policy) is
 * remembered for its rounds, which report it rather than wait for a pod that will never come.
 */
final class ProbeBatcher {
  private static final Logger LOG = Logger.getLogger(ProbeBatcher.class);

  private record Batch(ProbeSource source, List<Member> members) {}

  private final ProbePodFactory factory;

  /** Creates a pod on the API server, returning it as created. */
  private final UnaryOperator<Pod> client;

  private final int batchSize;
  private final Duration window;

  /** Told about every pod created, to put it in the informer's cache before its event arrives. */
  private final BiConsumer<ResourceID, Pod> created;

  /** Open batches by template; guarded by {@code this}. */
  private final Map<Pod, Batch> open = new HashMap<>();

  /** Rounds gathered or being created ({@link #key}); guarded by {@code this}. */
  private final Set<String> queued = new HashSet<>();

  /** Why a round's pod was refused, by {@link #key}. */
  private final Map<String, String> refused = new ConcurrentHashMap<>();

  /**
   * Rounds whose pod this process created ({@link #key}): if such a pod is gone before its round
   * was read, it was deleted, and asking for another would probe the source twice.
   */
  private final Set<String> createdRounds = ConcurrentHashMap.newKeySet();

  private final ScheduledExecutorService executor =
      DaemonScheduler.named("smtp-reach-probe-batcher");

  ProbeBatcher(
      ProbePodFactory factory,
      UnaryOperator<Pod> client,
      int batchSize,
      Duration window,
      BiConsumer<ResourceID, Pod> created) {
    if (batchSize < 1 || batchSize > 16) {
      // The kubelet's 4096 bytes carry 12 four-port reports of different servers with all the
      // status shows (BatchCodecTest); at 16 the certificate subjects go, then phase timings.
      throw new IllegalArgumentException("smtp-reach.probe-batch-size must be 1 to 16");
    }
    this.factory = factory;
    this.client = client;
    this.batchSize = batchSize;
    this.window = window;
    this.created = created;
  }

  /**
   * Gathers {@code member}'s round from {@code source} into a pod; no-op if already gathered. An
   * {@code urgent} round (someone asked for it: probe-now) does not wait for the window: its pod,
   * with the rounds gathered so far, is created at once.
   */
  synchronized void submit(Member member, ProbeSource source, boolean urgent) {
    if (!queued.add(key(member, source.name()))) {
      return;
    }
    Pod template = factory.template(member, source);
    Batch batch = open.get(template);
    if (batch == null) {
      Batch opened = new Batch(source, new ArrayList<>());
      open.put(template, opened);
      executor.schedule(() -> flush(template, opened), window.toMillis(), TimeUnit.MILLISECONDS);
      batch = opened;
    }
    batch.members().add(member);
    if (urgent || batch.members().size() >= batchSize) {
      open.remove(template);
      Batch full = batch;
      executor.execute(() -> create(full));
    }
  }

  /** Why the pod of {@code member}'s round from {@code source} was refused, if it was. */
  Optional<String> refused(String namespace, String name, String round, String source) {
    return Optional.ofNullable(refused.get(key(namespace, name, round, source)));
  }

  /** Whether this process created the pod of {@code member}'s round from {@code source}. */
  boolean created(String namespace, String name, String round, String source) {
    return createdRounds.contains(key(namespace, name, round, source));
  }

  /** Forgets a finished round's refusals and pods. */
  void forget(String namespace, String name, String round, List<String> sources) {
    sources.forEach(
        s -> {
          refused.remove(key(namespace, name, round, s));
          createdRounds.remove(key(namespace, name, round, s));
        });
  }

  /**
   * Forgets the refusals and pods of every round for which {@code current} is false (superseded, or
   * its endpoint deleted), which no reader will {@link #forget}.
   */
  void retainOnly(Predicate<String[]> current) {
    Predicate<String> stale = key -> !current.test(key.split("/", 4));
    refused.keySet().removeIf(stale);
    createdRounds.removeIf(stale);
  }

  /** Creates the batch's pod when its window ends, unless it filled (and was created) before. */
  private void flush(Pod template, Batch batch) {
    boolean stillOpen;
    synchronized (this) {
      stillOpen = open.get(template) == batch; // the same batch, not an equal one
      if (stillOpen) {
        open.remove(template);
      }
    }
    if (stillOpen) {
      create(batch);
    }
  }

  private void create(Batch batch) {
    Pod pod = factory.build(batch.members(), batch.source());
    try {
      Pod made = client.apply(pod);
      // In the cache first: a reader that knows the pod was created must also see it.
      created.accept(ResourceID.fromResource(batch.members().get(0).endpoint()), made);
      batch.members().forEach(m -> createdRounds.add(key(m, batch.source().name())));
    } catch (KubernetesClientException e) {
      String why = e.getStatus() != null ? e.getStatus().getMessage() : e.getMessage();
      if (refusal(e.getCode())) {
        LOG.warnf(
            "%s/%s: probe pod refused: %s",
            pod.getMetadata().getNamespace(), pod.getMetadata().getName(), why);
        batch.members().forEach(m -> refused.put(key(m, batch.source().name()), why));
      } else if (e.getCode() != 409) { // 409: created before a restart; its reader decides
        LOG.warnf(
            "%s/%s: probe pod not created, asked for again shortly: %s",
            pod.getMetadata().getNamespace(), pod.getMetadata().getName(), why);
      }
    } catch (RuntimeException e) {
      LOG.warnf(e, "creating probe pod %s failed", pod.getMetadata().getName());
    } finally {
      synchronized (this) {
        batch.members().forEach(m -> queued.remove(key(m, batch.source().name())));
      }
    }
  }

  /**
   * Whether the API server said no for good (forbidden by a quota or an admission policy, invalid),
   * rather than not now (overloaded, unavailable, timed out, or a conflict), which a later ask may
   * get past.
   */
  private static boolean refusal(int code) {
    return code >= 400 && code < 500 && code != 408 && code != 409 && code != 429;
  }

  private static String key(Member m, String source) {
    return key(m.namespace(), m.name(), m.round(), source);
  }

  private static String key(String namespace, String name, String round, String source) {
    return namespace + "/" + name + "/" + round + "/" + source;
  }
}
