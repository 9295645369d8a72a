package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.URI;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The operator's probe agents in its own namespace: creates the workload of each source that agent
 * rounds need, deletes those no endpoint needs any more, and finds the ready agent of a source
 * among the pods those workloads run. Only pods of the operator's namespace with the agents' labels
 * are ever called, and an agent's answer counts only when signed with the agents' key.
 */
final class AgentFleet implements AgentDispatcher.Directory {
  private static final Logger LOG = Logger.getLogger(AgentFleet.class);
  private static final String FIELD_MANAGER = "smtp-reach";

  private final KubernetesClient client;
  private final String namespace;
  private final AgentWorkloads workloads;
  private final int port;

  /** Makes sure the agents' key Secret exists: their pods mount it. */
  private final Runnable ensureKey;

  /** The agents' pods, from the operator's cache of its namespace. */
  private final Supplier<Stream<Pod>> pods;

  /** The agents' Deployments and DaemonSets, from the operator's cache of its namespace. */
  private final Supplier<Stream<HasMetadata>> workloadsInCache;

  /** Workloads this process applied since it started, by identity id. */
  private final Set<String> applied = ConcurrentHashMap.newKeySet();

  /** The operator's Deployment, if named: the agents' workloads go with it. */
  private final Optional<String> owner;

  private volatile OwnerReference ownerReference;

  AgentFleet(
      KubernetesClient client,
      String namespace,
      AgentWorkloads workloads,
      int port,
      Optional<String> owner,
      Supplier<Stream<Pod>> pods,
      Supplier<Stream<HasMetadata>> workloadsInCache,
      Runnable ensureKey) {
    this.client = client;
    this.namespace = namespace;
    this.workloads = workloads;
    this.port = port;
    this.owner = owner;
    this.pods = pods;
    this.workloadsInCache = workloadsInCache;
    this.ensureKey = ensureKey;
  }

  /**
   * Makes sure the agents of these sources have their workloads; one already as the operator would
   * apply it (after a restart, say) is left alone.
   */
  void ensure(Collection<ProbeSource> sources) {
    Map<String, HasMetadata> existing = null;
    for (ProbeSource source : sources) {
      AgentWorkloads.Identity id = AgentWorkloads.identity(source);
      if (!applied.contains(id.id())) {
        existing = existing == null ? existing() : existing;
        applyUnlessAsIs(id, existing.get(id.id()));
      }
    }
  }

  /**
   * Makes the agent workloads exactly these: applies those missing or not as the operator would
   * apply them now, and deletes the others (an agent no endpoint needs goes). A sweep that finds
   * them as they should be writes nothing.
   */
  void sync(Set<AgentWorkloads.Identity> wanted) {
    Map<String, HasMetadata> existing = existing();
    for (AgentWorkloads.Identity id : wanted) {
      applyUnlessAsIs(id, existing.get(id.id()));
    }
    Set<String> ids = wanted.stream().map(AgentWorkloads.Identity::id).collect(Collectors.toSet());
    for (HasMetadata w : existing.values()) {
      String id = labels(w).get(AgentWorkloads.AGENT_LABEL);
      if (id != null && !ids.contains(id)) {
        LOG.infof(
            "deleting probe agent %s/%s: no endpoint needs it",
            namespace, w.getMetadata().getName());
        applied.remove(id);
        client.resource(w).delete();
      }
    }
  }

  /** The workload of {@code id} as the operator applies it now, stamped. */
  private HasMetadata wanted(AgentWorkloads.Identity id) {
    HasMetadata workload = workloads.workload(id, namespace);
    ownerReference().ifPresent(ref -> workload.getMetadata().setOwnerReferences(List.of(ref)));
    return AgentWorkloads.stamped(workload);
  }

  /** The agents' workloads in the cache, by identity id. */
  private Map<String, HasMetadata> existing() {
    Map<String, HasMetadata> existing = new HashMap<>();
    workloadsInCache
        .get()
        .forEach(w -> existing.put(labels(w).getOrDefault(AgentWorkloads.AGENT_LABEL, ""), w));
    return existing;
  }

  private void applyUnlessAsIs(AgentWorkloads.Identity id, HasMetadata existing) {
    try {
      HasMetadata workload = wanted(id);
      if (AgentWorkloads.appliedAsIs(workload, existing)) {
        applied.add(id.id());
      } else {
        apply(id, workload);
      }
    } catch (KubernetesClientException e) {
      LOG.warnf("probe agent %s/%s not applied: %s", namespace, id.workloadName(), e.getMessage());
    }
  }

  private void apply(AgentWorkloads.Identity id, HasMetadata workload) {
    try {
      ensureKey.run();
      client.resource(workload).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
      if (applied.add(id.id())) {
        LOG.infof("probe agent %s/%s applied", namespace, id.workloadName());
      }
    } catch (KubernetesClientException e) {
      LOG.warnf("probe agent %s/%s not applied: %s", namespace, id.workloadName(), e.getMessage());
    }
  }

  /** The operator's Deployment as an owner, looked up once; none when unnamed or not found. */
  private Optional<OwnerReference> ownerReference() {
    if (ownerReference == null && owner.isPresent()) {
      Deployment d = client.apps().deployments().inNamespace(namespace).withName(owner.get()).get();
      if (d != null) {
        ownerReference =
            new OwnerReferenceBuilder()
                .withApiVersion("apps/v1")
                .withKind("Deployment")
                .withName(d.getMetadata().getName())
                .withUid(d.getMetadata().getUid())
                .withController(false)
                .withBlockOwnerDeletion(false)
                .build();
      }
    }
    return Optional.ofNullable(ownerReference);
  }

  @Override
  public Optional<AgentDispatcher.Target> find(ProbeSource source) {
    AgentWorkloads.Identity id = AgentWorkloads.identity(source);
    return pods.get()
        .filter(p -> namespace.equals(p.getMetadata().getNamespace()))
        .filter(p -> id.id().equals(labels(p).get(AgentWorkloads.AGENT_LABEL)))
        .filter(p -> !id.eachNode() || source.name().equals(p.getSpec().getNodeName()))
        .filter(AgentFleet::ready)
        .findFirst()
        .map(
            p ->
                new AgentDispatcher.Target(
                    URI.create("http://" + host(p.getStatus().getPodIP()) + ":" + port),
                    p.getSpec().getNodeName()));
  }

  private static boolean ready(Pod p) {
    return p.getMetadata().getDeletionTimestamp() == null
        && p.getStatus() != null
        && p.getStatus().getPodIP() != null
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static String host(String ip) {
    return ip.contains(":") ? "[" + ip + "]" : ip;
  }

  private static Map<String, String> labels(HasMetadata o) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels == null ? Map.of() : labels;
  }
}
