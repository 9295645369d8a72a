package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import io.smtpreach.api.RoundStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.metrics.EndpointMetrics;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import io.smtpreach.status.PortChange;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Keeps each SmtpEndpoint probed: observe its probe pods, collect a finished round into status,
 * Events and metrics, delete pods every endpoint has collected, and start the next round when it is
 * due (interval, spec change, or the probe-now annotation), then say when to come back. Rounds that
 * start together share pods ({@link ProbeBatcher}). The round in progress is written to status
 * before its pods are asked for, and a round's pod is found by the round's id, so an operator
 * restarted at any point carries on without losing or doubling a round.
 */
@ControllerConfiguration(
    name = SmtpEndpointReconciler.NAME,
    informer =
        @Informer(
            onUpdateFilter = ProbeTriggerFilter.class,
            itemStore = WithoutManagedFields.class),
    generationAwareEventProcessing = false) // probe-now is an annotation: no new generation
@RBACRule(
    apiGroups = "",
    resources = "pods",
    verbs = {"get", "list", "watch", "create", "delete"})
@RBACRule(
    apiGroups = "",
    resources = "events",
    verbs = {"create"})
@RBACRule(
    apiGroups = "",
    resources = "nodes",
    verbs = {"get", "list", "watch"})
public class SmtpEndpointReconciler implements Reconciler<SmtpEndpoint> {
  public static final String NAME = "smtpendpoint";
  private static final Logger LOG = Logger.getLogger(SmtpEndpointReconciler.class);

  /** How soon to look again when nothing else says: rounds wait on pods, pods on the API. */
  private static final Duration RECHECK_BUSY = Duration.ofSeconds(5);

  /**
   * How often series of deleted endpoints, and pods all their endpoints collected, are looked for.
   */
  private static final Duration SWEEP = Duration.ofSeconds(15);

  /** When to try again after JOSDK's retries of a failing reconcile are spent. */
  static final Duration AFTER_RETRIES = Duration.ofSeconds(30);

  /** How long a pod that ended without a result stays for {@code kubectl logs}. */
  private static final Duration KEEP_CRASHED = Duration.ofMinutes(10);

  private final OperatorConfig config;
  private final EndpointMetrics metrics;
  private final ProbePodReader reader;
  private final EventRecorder events;
  private final KubernetesClient client;
  private final ProbeBatcher batcher;

  /** Set when the operator starts ({@link #prepareEventSources}): loading it reads a Secret. */
  private volatile PodSignature signature;

  /** Pods that claim an endpoint's round but that it did not create, reported once each. */
  private final Set<String> reportedForeignPods = ConcurrentHashMap.newKeySet();

  private InformerEventSource<Pod, SmtpEndpoint> podSource;
  private InformerEventSource<Node, SmtpEndpoint> nodeSource;
  private IndexedResourceCache<SmtpEndpoint> endpoints;

  /**
   * Deleted endpoints' round counts are forgotten here: without a finalizer (which would block
   * namespace deletion whenever the operator is down) no reconcile sees the deletion. Pods that two
   * endpoints finishing at once each left to the other are deleted here too.
   */
  private final ScheduledExecutorService sweeper = DaemonScheduler.named("smtp-reach-sweeper");

  public SmtpEndpointReconciler(
      OperatorConfig config, EndpointMetrics metrics, KubernetesClient client) {
    this.config = config;
    this.metrics = metrics;
    this.reader = new ProbePodReader(config.podStartTimeout());
    this.events =
        new EventRecorder(client, Objects.requireNonNullElse(System.getenv("HOSTNAME"), NAME));
    this.client = client;
    this.batcher =
        new ProbeBatcher(
            new ProbePodFactory(config),
            pod -> client.resource(signature.sign(pod)).create(),
            config.probeBatchSize(),
            config.probeBatchWindow(),
            (owner, pod) -> podSource.handleRecentResourceCreate(owner, pod));
  }

  @Override
  public List<EventSource<?, SmtpEndpoint>> prepareEventSources(
      EventSourceContext<SmtpEndpoint> context) {
    signature = PodSigningKey.load(config, client);
    podSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SmtpEndpoint.class)
                .withName("probe-pods")
                .withLabelSelector(
                    ProbePodFactory.MANAGED_BY_LABEL + "=" + ProbePodFactory.MANAGED_BY)
                // A pod probes the endpoints its annotation names; it has an owner reference to
                // each, for the garbage collector, none of them its controller.
                .withSecondaryToPrimaryMapper(
                    pod ->
                        ProbePodReader.members(pod).keySet().stream()
                            .map(n -> new ResourceID(n, pod.getMetadata().getNamespace()))
                            .collect(Collectors.toSet()))
                // A pod wakes its endpoint when it settles (ended, or cannot start), or if it
                // goes before it did; its other changes wait for the endpoint's timed recheck.
                .withOnAddFilter(ProbePodReader::settled)
                .withOnUpdateFilter(
                    (pod, old) -> ProbePodReader.settled(pod) && !ProbePodReader.settled(old))
                .withOnDeleteFilter((pod, finalStateUnknown) -> !ProbePodReader.settled(pod))
                .build(),
            context);
    // Nodes decide the sources of PerNodeGroup and EachNode rounds; a node's change alone
    // triggers nothing (heartbeats would wake every endpoint).
    nodeSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Node.class, SmtpEndpoint.class)
                .withName("nodes")
                .withSecondaryToPrimaryMapper(node -> Set.of())
                .build(),
            context);
    endpoints = context.getPrimaryCache();
    metrics.renderFrom(endpoints::list, this::interval);
    sweeper.scheduleWithFixedDelay(
        this::sweep, SWEEP.toSeconds(), SWEEP.toSeconds(), TimeUnit.SECONDS);
    return List.of(podSource, nodeSource);
  }

  private void sweep() {
    if (!podSource.isRunning()) {
      return; // not the leader yet, or still starting: there is nothing to compare with
    }
    try {
      metrics.retainOnly((ns, name) -> endpoints.get(new ResourceID(name, ns)).isPresent());
      batcher.retainOnly(
          key ->
              endpoints
                  .get(new ResourceID(key[1], key[0]))
                  .map(e -> e.getStatus() == null ? null : e.getStatus().round)
                  .filter(round -> round.id.equals(key[2]))
                  .isPresent());
      List<Pod> pods = podSource.list().toList();
      pods.stream().filter(signature::authentic).forEach(p -> retire(p, null));
      Set<String> present =
          pods.stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
      reportedForeignPods.retainAll(present);
    } catch (RuntimeException e) {
      LOG.warnf(e, "sweep failed; next in %ss", SWEEP.toSeconds());
    }
  }

  /** An endpoint's probe interval for its metric; empty if its spec is invalid. */
  private Optional<Duration> interval(SmtpEndpoint endpoint) {
    try {
      return Optional.of(ProbeSettings.of(endpoint, config).interval());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  @Override
  public UpdateControl<SmtpEndpoint> reconcile(
      SmtpEndpoint endpoint, Context<SmtpEndpoint> context) {
    String namespace = endpoint.getMetadata().getNamespace();
    String name = endpoint.getMetadata().getName();
    Instant now = Instant.now();
    long generation = Objects.requireNonNullElse(endpoint.getMetadata().getGeneration(), 1L);
    var serialization = context.getClient().getKubernetesSerialization();
    SmtpEndpointStatus status =
        endpoint.getStatus() == null
            ? new SmtpEndpointStatus()
            : serialization.clone(endpoint.getStatus());
    StatusAggregator.initialConditions(status, generation, now);

    ProbeSettings settings;
    try {
      settings = ProbeSettings.of(endpoint, config);
    } catch (IllegalArgumentException e) {
      // The API server's validation should have caught it; say so rather than retry forever.
      Conditions.set(
          status.conditions,
          ConditionTypes.PROBES_RUNNING,
          "False",
          "InvalidSpec",
          e.getMessage(),
          generation,
          StatusAggregator.timestamp(now));
      writeStatus(endpoint, status, context);
      return UpdateControl.noUpdate();
    }

    List<Pod> owned = new ArrayList<>();
    for (Pod pod : context.getSecondaryResources(Pod.class)) {
      if (signature.trusted(pod, endpoint)) {
        owned.add(pod);
      } else {
        reportForeign(endpoint, pod);
      }
    }
    Duration runDeadline = settings.probeDeadline(config.probeStartAllowance());
    String probeNow = probeNowValue(endpoint);
    boolean probeNowRequested = probeNow != null && !probeNow.equals(status.probeNowHandled);
    Instant recheck = null;
    List<Runnable> afterWrite = new ArrayList<>();

    RoundStatus round = status.round;
    if (round != null && (!Objects.equals(round.generation, generation) || probeNowRequested)) {
      LOG.infof(
          "%s/%s: round %s superseded (spec changed or probe-now)", namespace, name, round.id);
      status.round = null;
      round = null;
    }

    if (round != null && now.isBefore(Instant.parse(round.startedAt))) {
      // Scheduled in the status write that finished the previous round: not due yet.
      recheck = earliest(recheck, Instant.parse(round.startedAt));
      round = null;
    } else if (round != null && notStarted(round, owned, name)) {
      recheck =
          earliest(recheck, startDueRound(endpoint, settings, status, owned, now, afterWrite));
      round = null;
    }

    if (round != null) {
      RoundStatus r = round;
      List<Pod> roundPods =
          owned.stream().filter(p -> r.id.equals(ProbePodReader.roundOf(p, name))).toList();
      Instant startedAt = Instant.parse(r.startedAt);
      List<SourceOutcome> outcomes = new ArrayList<>();
      boolean waiting = false;
      for (Pod p : roundPods) {
        Optional<SourceOutcome> o = reader.read(p, name, runDeadline, now);
        if (o.isPresent()) {
          outcomes.add(o.get());
        } else {
          waiting = true;
          recheck = earliest(recheck, reader.recheckAt(p, runDeadline));
        }
      }
      Set<String> present =
          roundPods.stream().map(ProbePodReader::source).collect(Collectors.toSet());
      // Sources without a pod: refused by the API server (a result now), or still to come.
      List<String> missing = new ArrayList<>();
      for (String src : Objects.requireNonNullElse(r.sources, List.<String>of())) {
        if (present.contains(src)) {
          continue;
        }
        Optional<String> refused = batcher.refused(namespace, name, r.id, src);
        if (refused.isPresent()) {
          outcomes.add(SourceOutcome.failed(src, null, ProbeRunFailure.PodRejected, refused.get()));
        } else if (batcher.created(namespace, name, r.id, src)) {
          // Deleted before it was read: another pod might probe the source a second time.
          outcomes.add(
              SourceOutcome.failed(
                  src,
                  null,
                  ProbeRunFailure.ProbePodDeleted,
                  "its probe pod was deleted before its result was read"));
        } else {
          missing.add(src);
        }
      }
      if (!missing.isEmpty()) {
        if (now.isBefore(startedAt.plus(config.podStartTimeout()).plus(runDeadline))) {
          // Written to status but not (all) created: being gathered, or the operator stopped in
          // between, or someone deleted them. Asking again for a gathered round is a no-op.
          createRoundPods(endpoint, settings, r, roundSources(endpoint, r));
          waiting = true;
          recheck = earliest(recheck, now.plus(RECHECK_BUSY));
        } else {
          missing.forEach(
              src ->
                  outcomes.add(
                      SourceOutcome.failed(
                          src,
                          null,
                          ProbeRunFailure.ProbePodDeleted,
                          "its probe pod disappeared")));
        }
      }
      if (!waiting) {
        outcomes.addAll(unavailableSources(endpoint, r));
        StatusAggregator.Result result =
            StatusAggregator.afterRound(
                status, settings.targets(), outcomes, generation, startedAt, now);
        SmtpEndpointStatus previous = status;
        status = result.status();
        status.nextProbeTime = StatusAggregator.timestamp(startedAt.plus(settings.interval()));
        status.round = scheduleNext(endpoint, status, generation, probeNow);
        afterWrite.add(() -> reportRound(endpoint, previous, result));
        LOG.infof(
            "%s/%s: round %s finished: %s (%d of %d sources ran)",
            namespace,
            name,
            r.id,
            result.outcome(),
            outcomes.stream().filter(SourceOutcome::ran).count(),
            outcomes.size());
        afterWrite.add(() -> roundPods.forEach(p -> retire(p, name)));
        batcher.forget(namespace, name, r.id, Objects.requireNonNullElse(r.sources, List.of()));
      }
    }

    if (status.round == null) {
      String trigger = trigger(status, generation, probeNowRequested, now);
      if (trigger != null) {
        List<ProbeSource> sources = sources(endpoint);
        if (sources.isEmpty()) {
          status =
              StatusAggregator.roundNotStarted(
                  status,
                  settings.targets(),
                  ProbeRunFailure.NoEligibleNodes,
                  "no Ready, schedulable node matches the placement",
                  generation,
                  now);
          status.nextProbeTime = StatusAggregator.timestamp(now.plus(settings.interval()));
          if (probeNowRequested) {
            status.probeNowHandled = probeNow;
          }
        } else if (overCap(endpoint, sources)) {
          recheck = earliest(recheck, now.plus(RECHECK_BUSY));
        } else {
          String id =
              roundId(
                  endpoint.getMetadata().getUid(),
                  trigger,
                  generation,
                  probeNow,
                  status.lastProbeTime + status.nextProbeTime);
          status.round = round(id, now.toString(), trigger, generation, sources);
          if (probeNowRequested) {
            status.probeNowHandled = probeNow;
          }
          recheck = earliest(recheck, now.plus(config.podStartTimeout()).plusSeconds(1));
          launch(endpoint, settings, status.round, sources, owned, afterWrite);
        }
      }
    }

    writeStatus(endpoint, status, context);
    afterWrite.forEach(Runnable::run);

    if (status.nextProbeTime != null
        && (status.round == null || now.isBefore(Instant.parse(status.round.startedAt)))) {
      recheck = earliest(recheck, Instant.parse(status.nextProbeTime));
    }
    Duration after = recheck == null ? settings.interval() : Duration.between(now, recheck);
    return UpdateControl.<SmtpEndpoint>noUpdate()
        .rescheduleAfter(
            after.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : after);
  }

  /**
   * The next interval round, written with the result of the one that just finished so that a
   * scheduled round costs no status write of its own: at its time the pods are created from this
   * record (see {@link #startDueRound}). Its id is the one {@link #trigger} would give it.
   */
  private RoundStatus scheduleNext(
      SmtpEndpoint endpoint, SmtpEndpointStatus status, long generation, String probeNow) {
    List<ProbeSource> sources = sources(endpoint);
    if (sources.isEmpty()) {
      return null; // no eligible node now: the round that comes due will say so
    }
    String id =
        roundId(
            endpoint.getMetadata().getUid(),
            "Interval",
            generation,
            probeNow,
            status.lastProbeTime + status.nextProbeTime);
    return round(id, status.nextProbeTime, "Interval", generation, sources);
  }

  /** An interval round that is due and has no pod yet (none created, or all deleted since). */
  private static boolean notStarted(RoundStatus round, List<Pod> owned, String name) {
    return "Interval".equals(round.trigger)
        && owned.stream().noneMatch(p -> round.id.equals(ProbePodReader.roundOf(p, name)));
  }

  /**
   * Creates the pods of a due round; returns when to look again. The status changes (and is
   * written) only when the round must be redated (it waited for the concurrency cap, or the
   * operator was down when it came due) or the nodes it runs from changed since it was scheduled.
   */
  private Instant startDueRound(
      SmtpEndpoint endpoint,
      ProbeSettings settings,
      SmtpEndpointStatus status,
      List<Pod> owned,
      Instant now,
      List<Runnable> afterWrite) {
    RoundStatus round = status.round;
    List<ProbeSource> sources = sources(endpoint);
    if (sources.isEmpty()) {
      status.round = null; // the trigger below reports NoEligibleNodes
      return now;
    }
    if (overCap(endpoint, sources)) {
      return now.plus(RECHECK_BUSY);
    }
    if (now.isAfter(Instant.parse(round.startedAt).plus(config.podStartTimeout()))) {
      round.startedAt = now.toString(); // its deadlines run from when its pods are created
    }
    List<String> names = sources.stream().map(ProbeSource::name).toList();
    if (!names.equals(round.sources)) {
      round.sources = names;
      round.pods = names.size();
    }
    launch(endpoint, settings, round, sources, owned, afterWrite);
    return now.plus(config.podStartTimeout()).plusSeconds(1);
  }

  private static RoundStatus round(
      String id, String startedAt, String trigger, long generation, List<ProbeSource> sources) {
    RoundStatus round = new RoundStatus();
    round.id = id;
    round.startedAt = startedAt;
    round.trigger = trigger;
    round.generation = generation;
    round.pods = sources.size();
    round.sources = sources.stream().map(ProbeSource::name).toList();
    return round;
  }

  /** The sources the endpoint's placement gives now, among Ready, schedulable nodes. */
  private List<ProbeSource> sources(SmtpEndpoint endpoint) {
    return ProbeSource.of(endpoint.getSpec().probe, nodeSource.list().toList());
  }

  /**
   * The sources a round did not include because their nodes are cordoned or not Ready: they did not
   * run, so they keep what is known of them and say why.
   */
  private List<SourceOutcome> unavailableSources(SmtpEndpoint endpoint, RoundStatus round) {
    List<String> included = Objects.requireNonNullElse(round.sources, List.of());
    return ProbeSource.unavailable(endpoint.getSpec().probe, nodeSource.list().toList()).stream()
        .filter(src -> !included.contains(src))
        .map(
            src ->
                SourceOutcome.failed(
                    src,
                    null,
                    ProbeRunFailure.NoEligibleNodes,
                    "no Ready, schedulable node in this source"))
        .toList();
  }

  /** Whether the round must wait: its pods would exceed the cap on probe pods at once. */
  private boolean overCap(SmtpEndpoint endpoint, List<ProbeSource> sources) {
    long active = activeProbePods();
    if (active + sources.size() <= config.maxConcurrentProbePods()) {
      return false;
    }
    LOG.debugf(
        "%s/%s: round waits, %d probe pods running",
        endpoint.getMetadata().getNamespace(), endpoint.getMetadata().getName(), active);
    return true;
  }

  /** After the status write: other rounds' leftover pods go, this round's are asked for. */
  private void launch(
      SmtpEndpoint endpoint,
      ProbeSettings settings,
      RoundStatus round,
      List<ProbeSource> sources,
      List<Pod> owned,
      List<Runnable> afterWrite) {
    String name = endpoint.getMetadata().getName();
    List<Pod> stale =
        owned.stream().filter(p -> !round.id.equals(ProbePodReader.roundOf(p, name))).toList();
    afterWrite.add(() -> stale.forEach(p -> retire(p, name)));
    afterWrite.add(() -> createRoundPods(endpoint, settings, round, sources));
    LOG.infof(
        "%s/%s: round %s (%s) from %d source(s)",
        endpoint.getMetadata().getNamespace(),
        endpoint.getMetadata().getName(),
        round.id,
        round.trigger,
        sources.size());
  }

  /**
   * The round's id, derived from what started it, so that deciding twice to start the same round (a
   * reconcile that read a stale copy of the endpoint, say) makes the same pods, not more. The
   * endpoint's UID keeps an endpoint recreated under the same name from its predecessor's pods.
   */
  static String roundId(
      String uid, String trigger, long generation, String probeNow, String lastRound) {
    String key =
        switch (trigger) {
          case "ProbeNow" -> "p/" + generation + "/" + probeNow;
          case "Interval" -> "i/" + generation + "/" + lastRound;
          default -> "g/" + generation;
        };
    return ProbePodFactory.shortHash(uid + "/" + key, 5);
  }

  /** Why a round is due now, or null: a new or changed spec, probe-now, or the interval. */
  private static String trigger(
      SmtpEndpointStatus status, long generation, boolean probeNowRequested, Instant now) {
    if (status.observedGeneration == null) {
      return "Created";
    }
    if (status.observedGeneration != generation) {
      return "SpecChanged";
    }
    if (probeNowRequested) {
      return "ProbeNow";
    }
    if (status.nextProbeTime == null || !now.isBefore(Instant.parse(status.nextProbeTime))) {
      return "Interval";
    }
    return null;
  }

  /** The sources a round was started with that still exist (to create its missing pods). */
  private List<ProbeSource> roundSources(SmtpEndpoint endpoint, RoundStatus round) {
    List<String> names = round.sources == null ? List.of() : round.sources;
    return sources(endpoint).stream().filter(s -> names.contains(s.name())).toList();
  }

  private void createRoundPods(
      SmtpEndpoint endpoint, ProbeSettings settings, RoundStatus round, List<ProbeSource> sources) {
    for (ProbeSource source : sources) {
      batcher.submit(
          new ProbePodFactory.Member(endpoint, settings, round.id),
          source,
          "ProbeNow".equals(round.trigger));
    }
  }

  /**
   * Deletes a pod once each of its endpoints has collected its round (or is gone), except the
   * endpoint {@code collecting}, which just has. A pod that ended without a result stays a while
   * for {@code kubectl logs}.
   */
  private void retire(Pod pod, String collecting) {
    String namespace = pod.getMetadata().getNamespace();
    Instant created = Instant.parse(pod.getMetadata().getCreationTimestamp());
    if (collecting == null && created.plus(SWEEP).isAfter(Instant.now())) {
      return; // its endpoints' status may not have reached the cache yet
    }
    for (Map.Entry<String, String> m : ProbePodReader.members(pod).entrySet()) {
      if (m.getKey().equals(collecting)) {
        continue;
      }
      RoundStatus round =
          endpoints
              .get(new ResourceID(m.getKey(), namespace))
              .map(e -> e.getStatus() == null ? null : e.getStatus().round)
              .orElse(null);
      if (round != null && m.getValue().equals(round.id)) {
        return; // still theirs to read
      }
    }
    if (ProbePodReader.crashed(pod) && created.plus(KEEP_CRASHED).isAfter(Instant.now())) {
      return;
    }
    try {
      client.resource(pod).withGracePeriod(0).delete();
    } catch (KubernetesClientException e) {
      LOG.debugf("%s/%s: delete: %s", namespace, pod.getMetadata().getName(), e.getMessage());
    }
  }

  /**
   * A pod with the probe pods' labels that this operator did not create for this endpoint (forged,
   * changed since, or left by an earlier endpoint of the same name): never read, never deleted,
   * reported once if it claims the endpoint's round.
   */
  private void reportForeign(SmtpEndpoint endpoint, Pod pod) {
    String name = endpoint.getMetadata().getName();
    RoundStatus round = endpoint.getStatus() == null ? null : endpoint.getStatus().round;
    boolean claimsRound = round != null && round.id.equals(ProbePodReader.roundOf(pod, name));
    if (!claimsRound || !reportedForeignPods.add(pod.getMetadata().getUid())) {
      return;
    }
    String message =
        "pod "
            + pod.getMetadata().getName()
            + " claims this endpoint's round but smtp-reach did not create it: ignored";
    LOG.warnf("%s/%s: %s", endpoint.getMetadata().getNamespace(), name, message);
    events.record(endpoint, EventRecorder.Type.Warning, "ForeignProbePod", message);
  }

  /**
   * After JOSDK's last retry (a status patch failing through a long API outage, say), come back
   * later anyway: otherwise the endpoint would wait for something else to change it.
   */
  @Override
  public ErrorStatusUpdateControl<SmtpEndpoint> updateErrorStatus(
      SmtpEndpoint endpoint, Context<SmtpEndpoint> context, Exception e) {
    boolean lastAttempt = context.getRetryInfo().map(RetryInfo::isLastAttempt).orElse(false);
    if (!lastAttempt) {
      return ErrorStatusUpdateControl.defaultErrorProcessing();
    }
    LOG.warnf(
        "%s/%s: reconcile failed after its retries (%s); next try in %ss",
        endpoint.getMetadata().getNamespace(),
        endpoint.getMetadata().getName(),
        e.getMessage(),
        AFTER_RETRIES.toSeconds());
    return ErrorStatusUpdateControl.<SmtpEndpoint>noStatusUpdate()
        .withNoRetry()
        .rescheduleAfter(AFTER_RETRIES);
  }

  /** Events for every changed port and for probes that stop or start running; the round counter. */
  private void reportRound(
      SmtpEndpoint endpoint, SmtpEndpointStatus previous, StatusAggregator.Result result) {
    String namespace = endpoint.getMetadata().getNamespace();
    String name = endpoint.getMetadata().getName();
    for (PortChange change : result.changes()) {
      events.record(
          endpoint,
          change.asExpected() ? EventRecorder.Type.Normal : EventRecorder.Type.Warning,
          change.eventReason(),
          change.eventMessage());
      LOG.infof("%s/%s: %s", namespace, name, change.eventMessage());
    }
    var before = Conditions.find(previous.conditions, ConditionTypes.PROBES_RUNNING);
    var after = Conditions.find(result.status().conditions, ConditionTypes.PROBES_RUNNING);
    if (after.isPresent()
        && (before.isEmpty()
            || !before.get().getStatus().equals(after.get().getStatus())
            || !before.get().getReason().equals(after.get().getReason()))) {
      boolean running = "True".equals(after.get().getStatus());
      if (!running || (before.isPresent() && "False".equals(before.get().getStatus()))) {
        events.record(
            endpoint,
            running ? EventRecorder.Type.Normal : EventRecorder.Type.Warning,
            running ? "ProbesRunning" : after.get().getReason(),
            after.get().getMessage());
      }
    }
    metrics.roundFinished(namespace, name, result.outcome());
  }

  /** Patches status (server-side apply) only when it changed. */
  private static void writeStatus(
      SmtpEndpoint endpoint, SmtpEndpointStatus status, Context<SmtpEndpoint> context) {
    var serialization = context.getClient().getKubernetesSerialization();
    if (endpoint.getStatus() != null
        && serialization.asJson(endpoint.getStatus()).equals(serialization.asJson(status))) {
      return;
    }
    SmtpEndpoint fresh = new SmtpEndpoint();
    fresh.setMetadata(
        new ObjectMetaBuilder()
            .withName(endpoint.getMetadata().getName())
            .withNamespace(endpoint.getMetadata().getNamespace())
            .build());
    fresh.setStatus(status);
    PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(endpoint, fresh, context);
  }

  private long activeProbePods() {
    return podSource
        .list()
        .filter(
            p ->
                p.getStatus() == null
                    || !Set.of("Succeeded", "Failed").contains(p.getStatus().getPhase()))
        .count();
  }

  private static String probeNowValue(SmtpEndpoint endpoint) {
    Map<String, String> annotations = endpoint.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(SmtpEndpoint.PROBE_NOW_ANNOTATION);
  }

  private static Instant earliest(Instant a, Instant b) {
    return a == null ? b : Comparator.<Instant>naturalOrder().compare(a, b) <= 0 ? a : b;
  }
}
