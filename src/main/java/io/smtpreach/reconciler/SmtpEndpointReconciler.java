package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
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
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.smtpreach.agent.AgentClient;
import io.smtpreach.api.RoundStatus;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.metrics.EndpointMetrics;
import io.smtpreach.probe.ProbeOptions;
import io.smtpreach.status.ConditionTypes;
import io.smtpreach.status.Conditions;
import io.smtpreach.status.EgressChange;
import io.smtpreach.status.PortChange;
import io.smtpreach.status.SourceOutcome;
import io.smtpreach.status.StatusAggregator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Keeps each SmtpEndpoint probed, as observe, validate, decide, act: it observes the endpoint, the
 * pods it created for it (signed, {@link PodSignature}) and the nodes; {@link Round} decides the
 * next status and what to do; it writes the status first, then creates pods through {@link
 * ProbeBatcher}, deletes the ones every endpoint has read, and records Events and metrics. The
 * round in progress is in status before its pods are asked for, and a round's pod is found by the
 * round's id, so an operator restarted at any point carries on without losing or doubling a round.
 */
@ControllerConfiguration(
    name = SmtpEndpointReconciler.NAME,
    informer =
        @Informer(
            onUpdateFilter = ProbeTriggerFilter.class,
            itemStore = WithoutManagedFields.class),
    generationAwareEventProcessing = false) // probe-now is an annotation: no new generation
// Its RBAC (read endpoints, patch their status, pods, events, nodes) is in application.properties:
// the operator SDK's generation would grant every verb on SmtpEndpoints.
public class SmtpEndpointReconciler implements Reconciler<SmtpEndpoint> {
  public static final String NAME = "smtpendpoint";
  private static final Logger LOG = Logger.getLogger(SmtpEndpointReconciler.class);

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
  private final Round rounds;
  private final ProbePolicy policy;
  private final EventRecorder events;
  private final KubernetesClient client;
  private final ProbeBatcher batcher;

  /** Set when the operator starts ({@link #prepareEventSources}): loading it reads a Secret. */
  private volatile PodSignature signature;

  /** The probe agents and the calls to them; set at start, null when agents are off. */
  private volatile AgentFleet fleet;

  private volatile AgentDispatcher agents;

  /** Wakes an endpoint when one of its agent calls ended. */
  private final SimpleInboundEventSource<SmtpEndpoint> agentAnswers =
      new SimpleInboundEventSource<>("agent-answers");

  /** Pods that claim an endpoint's round but that it did not create, reported once each. */
  private final Set<String> reportedForeignPods = ConcurrentHashMap.newKeySet();

  private final AtomicReference<Instant> reconcilingSince = new AtomicReference<>();

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
    // A blocklist that is no DNS name would fail every direct-delivery probe: refuse to start.
    ProbeOptions.builder().dnsblZones(config.dnsblZones().orElse(List.of()));
    this.metrics = metrics;
    this.policy = ProbePolicy.of(config.probePolicy());
    this.rounds =
        new Round(
            new Round.Limits(
                config.maxConcurrentProbePods(),
                config.podStartTimeout(),
                config.probeStartAllowance()));
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
    List<EventSource<?, SmtpEndpoint>> sources = new ArrayList<>();
    if (config.agents().enabled()) {
      sources.addAll(startAgents(context));
    }
    podSource =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, SmtpEndpoint.class)
                .withName("probe-pods")
                // Every pod with the probe pods' label but the agents' (those are read where they
                // run, in the operator's namespace): a forged one must be seen to be reported.
                .withLabelSelector(
                    ProbePodFactory.MANAGED_BY_LABEL
                        + "="
                        + ProbePodFactory.MANAGED_BY
                        + ","
                        + ProbePodFactory.NAME_LABEL
                        + "!="
                        + AgentWorkloads.NAME)
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
    sources.addAll(List.of(podSource, nodeSource, agentAnswers));
    return sources;
  }

  /**
   * The agents' fleet in the operator's namespace, and the dispatcher that calls them; returns the
   * caches they read: the agents' pods and workloads.
   */
  private List<EventSource<?, SmtpEndpoint>> startAgents(EventSourceContext<SmtpEndpoint> context) {
    String namespace =
        config
            .leaseNamespace()
            .orElse(Objects.requireNonNullElse(client.getNamespace(), "default"));
    // The agents' pods, in the operator's namespace: where to call each source's agent (a round
    // waiting for its agent looks again by itself). Their Deployments and DaemonSets, for the
    // sweep to compare with what it would apply: a watch each, not a LIST per sweep.
    InformerEventSource<Pod, SmtpEndpoint> agentPods =
        agentCache(Pod.class, "agent-pods", namespace, context);
    InformerEventSource<Deployment, SmtpEndpoint> agentDeployments =
        agentCache(Deployment.class, "agent-deployments", namespace, context);
    InformerEventSource<DaemonSet, SmtpEndpoint> agentDaemonSets =
        agentCache(DaemonSet.class, "agent-daemonsets", namespace, context);
    // The key is read (or made) when first needed, and again after a failure: an API server that
    // does not answer while this process starts must not leave it without agents. Its Secret
    // exists before any agent workload does, as their pods mount it.
    AtomicReference<AgentClient> agentClient = new AtomicReference<>();
    Supplier<AgentClient> signer =
        () -> {
          AgentClient c = agentClient.get();
          if (c == null) {
            c = new AgentClient(AgentKey.load(client, namespace));
            agentClient.compareAndSet(null, c);
          }
          return c;
        };
    fleet =
        new AgentFleet(
            client,
            namespace,
            new AgentWorkloads(config),
            config.agents().port(),
            config.agents().owner(),
            agentPods::list,
            () -> Stream.<HasMetadata>concat(agentDeployments.list(), agentDaemonSets.list()),
            signer::get);
    agents =
        new AgentDispatcher(
            fleet,
            (uri, arguments, deadline) -> signer.get().probe(uri, arguments, deadline),
            config.agents().maxCalls(),
            config.probeStartAllowance(),
            agentAnswers::propagateEvent);
    return List.of(agentPods, agentDeployments, agentDaemonSets);
  }

  /** A cache of the agents' objects of one kind; their changes wake no endpoint. */
  private static <W extends HasMetadata> InformerEventSource<W, SmtpEndpoint> agentCache(
      Class<W> kind, String name, String namespace, EventSourceContext<SmtpEndpoint> context) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(kind, SmtpEndpoint.class)
            .withName(name)
            .withNamespaces(Set.of(namespace))
            .withLabelSelector(ProbePodFactory.NAME_LABEL + "=" + AgentWorkloads.NAME)
            .withSecondaryToPrimaryMapper(w -> Set.of())
            .build(),
        context);
  }

  private void sweep() {
    if (!podSource.isRunning()) {
      return; // not the leader yet, or still starting: there is nothing to compare with
    }
    try {
      metrics.retainOnly((ns, name) -> endpoints.get(new ResourceID(name, ns)).isPresent());
      java.util.function.Predicate<String[]> current =
          key ->
              endpoints
                  .get(new ResourceID(key[1], key[0]))
                  .map(e -> e.getStatus() == null ? null : e.getStatus().round)
                  .filter(round -> round.id.equals(key[2]))
                  .isPresent();
      batcher.retainOnly(current);
      if (agents != null) {
        agents.retainOnly(current);
        fleet.sync(wantedAgents());
      }
      List<Pod> pods = podSource.list().toList();
      pods.stream().filter(signature::authentic).forEach(p -> retire(p, null));
      Set<String> present =
          pods.stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());
      reportedForeignPods.retainAll(present);
    } catch (RuntimeException e) {
      LOG.warnf(e, "sweep failed; next in %ss", SWEEP.toSeconds());
    }
  }

  /** The agents of every source of every endpoint probed by agents. */
  private Set<AgentWorkloads.Identity> wantedAgents() {
    List<Node> nodes = nodeSource.list().toList();
    return endpoints
        .list()
        .filter(e -> via(e).orElse(null) == io.smtpreach.api.ProbeVia.Agent)
        .flatMap(e -> ProbeSource.of(e.getSpec().probe, nodes).stream())
        .map(AgentWorkloads::identity)
        .collect(Collectors.toSet());
  }

  private Optional<io.smtpreach.api.ProbeVia> via(SmtpEndpoint endpoint) {
    try {
      return Optional.of(ProbeSettings.of(endpoint, config).via());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
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
    Instant now = Instant.now();
    long generation = Objects.requireNonNullElse(endpoint.getMetadata().getGeneration(), 1L);
    var serialization = context.getClient().getKubernetesSerialization();
    SmtpEndpointStatus status =
        endpoint.getStatus() == null
            ? new SmtpEndpointStatus()
            : serialization.clone(endpoint.getStatus());
    StatusAggregator.initialConditions(status, generation, now);

    // Validate: the API server's rules should have caught an invalid spec, the admin's policy
    // bounds the rest; say which, rather than retry forever.
    ProbeSettings settings;
    try {
      settings = ProbeSettings.of(endpoint, config);
    } catch (IllegalArgumentException e) {
      return notProbed(endpoint, status, "InvalidSpec", e.getMessage(), context, now);
    }
    if (settings.via() == io.smtpreach.api.ProbeVia.Agent && agents == null) {
      return notProbed(
          endpoint,
          status,
          "AgentsDisabled",
          "probe.mode is Agent but this operator runs no probe agents (smtp-reach.agents.enabled)",
          context,
          now);
    }
    Optional<String> notAllowed = policy.violation(endpoint.getSpec().probe);
    if (notAllowed.isPresent()) {
      return notProbed(endpoint, status, ProbePolicy.NOT_ALLOWED, notAllowed.get(), context, now);
    }

    // Observe: only pods this operator created for this endpoint count.
    List<Pod> pods = new ArrayList<>();
    for (Pod pod : context.getSecondaryResources(Pod.class)) {
      if (signature.trusted(pod, endpoint)) {
        pods.add(pod);
      } else {
        reportForeign(endpoint, pod);
      }
    }
    String namespace = endpoint.getMetadata().getNamespace();
    String name = endpoint.getMetadata().getName();
    List<Node> nodes = nodeSource.list().toList();
    Round.Observation observation =
        new Round.Observation(
            endpoint,
            settings,
            pods,
            ProbeSource.of(endpoint.getSpec().probe, nodes),
            ProbeSource.unavailable(endpoint.getSpec().probe, nodes),
            new Round.PodLedger() {
              @Override
              public Optional<String> refused(String round, String source) {
                return batcher.refused(namespace, name, round, source);
              }

              @Override
              public boolean created(String round, String source) {
                return batcher.created(namespace, name, round, source);
              }
            },
            new Round.AgentLedger() {
              @Override
              public Optional<SourceOutcome> outcome(String round, String source) {
                return agents == null
                    ? Optional.empty()
                    : agents.outcome(namespace, name, round, source);
              }

              @Override
              public boolean asked(String round, String source) {
                return agents != null && agents.asked(namespace, name, round, source);
              }
            },
            activeProbePods(),
            watchingSince(now),
            now,
            providerIds(nodes));

    // Decide, then act: the status first, so that a round is on record before its pods exist.
    Round.Plan plan = rounds.next(observation, status);
    writeStatus(endpoint, plan.status(), context);
    plan.actions().forEach(action -> act(endpoint, settings, action));

    Duration after =
        plan.recheck() == null ? settings.interval() : Duration.between(now, plan.recheck());
    return UpdateControl.<SmtpEndpoint>noUpdate()
        .rescheduleAfter(
            after.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : after);
  }

  /** A spec that cannot be probed: no round, and a condition that says why. */
  private static UpdateControl<SmtpEndpoint> notProbed(
      SmtpEndpoint endpoint,
      SmtpEndpointStatus status,
      String reason,
      String message,
      Context<SmtpEndpoint> context,
      Instant now) {
    Conditions.set(
        status.conditions,
        ConditionTypes.PROBES_RUNNING,
        "False",
        reason,
        message,
        Objects.requireNonNullElse(endpoint.getMetadata().getGeneration(), 1L),
        StatusAggregator.timestamp(now));
    writeStatus(endpoint, status, context);
    return UpdateControl.noUpdate();
  }

  /**
   * When this process began to reconcile: its informers were synced then, what it saw of pods
   * before (as a replica that was not the leader) may be stale. An API outage longer than the
   * Lease's renew deadline ends the leader's process, so a fresh view starts here after one.
   */
  private Instant watchingSince(Instant now) {
    reconcilingSince.compareAndSet(null, now);
    return reconcilingSince.get();
  }

  /** Carries out one of a plan's actions, after its status was written. */
  private void act(SmtpEndpoint endpoint, ProbeSettings settings, Round.Action action) {
    String namespace = endpoint.getMetadata().getNamespace();
    String name = endpoint.getMetadata().getName();
    if (action instanceof Round.StartPods start) {
      LOG.infof(
          "%s/%s: round %s (%s) from %d source(s)",
          namespace, name, start.round().id, start.round().trigger, start.sources().size());
      for (ProbeSource source : start.sources()) {
        batcher.submit(
            new ProbePodFactory.Member(endpoint, settings, start.round().id),
            source,
            start.urgent());
      }
    } else if (action instanceof Round.AskAgents ask) {
      LOG.infof(
          "%s/%s: round %s (%s) from %d agent(s)",
          namespace, name, ask.round().id, ask.round().trigger, ask.sources().size());
      fleet.ensure(ask.sources());
      Instant startBy = Instant.parse(ask.round().startedAt).plus(config.podStartTimeout());
      for (ProbeSource source : ask.sources()) {
        agents.ask(
            new ProbePodFactory.Member(endpoint, settings, ask.round().id),
            source,
            startBy,
            ask.deadline());
      }
    } else if (action instanceof Round.RetirePods retire) {
      retire.pods().forEach(p -> retire(p, name));
    } else if (action instanceof Round.Report report) {
      reportRound(endpoint, report);
    } else if (action instanceof Round.Forget forget) {
      batcher.forget(namespace, name, forget.round(), forget.sources());
      if (agents != null) {
        agents.forget(namespace, name, forget.round(), forget.sources());
      }
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

  /** Each node's {@code spec.providerID}, for the clouds that block port 25 by policy. */
  private static Map<String, String> providerIds(List<Node> nodes) {
    Map<String, String> ids = new HashMap<>();
    for (Node n : nodes) {
      if (n.getSpec() != null && n.getSpec().getProviderID() != null) {
        ids.put(n.getMetadata().getName(), n.getSpec().getProviderID());
      }
    }
    return ids;
  }

  /** Events for every changed port and for probes that stop or start running; the round counter. */
  private void reportRound(SmtpEndpoint endpoint, Round.Report report) {
    String namespace = endpoint.getMetadata().getNamespace();
    String name = endpoint.getMetadata().getName();
    SmtpEndpointStatus previous = report.previous();
    StatusAggregator.Result result = report.result();
    LOG.infof(
        "%s/%s: round %s finished: %s (%d of %d sources ran)",
        namespace,
        name,
        report.round().id,
        result.outcome(),
        report.outcomes().stream().filter(SourceOutcome::ran).count(),
        report.outcomes().size());
    for (PortChange change : result.changes()) {
      events.record(
          endpoint,
          change.asExpected() ? EventRecorder.Type.Normal : EventRecorder.Type.Warning,
          change.eventReason(),
          change.eventMessage());
      LOG.infof("%s/%s: %s", namespace, name, change.eventMessage());
    }
    for (EgressChange change : result.egressChanges()) {
      events.record(
          endpoint,
          change.kind().warning ? EventRecorder.Type.Warning : EventRecorder.Type.Normal,
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
}
