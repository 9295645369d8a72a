package io.smtpreach.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smtpreach.probe.ProbeOptions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The operator's settings ({@code smtp-reach.*}, or {@code SMTP_REACH_*} in the environment). */
@ConfigMapping(prefix = "smtp-reach")
public interface OperatorConfig {
  /** Probe interval of endpoints that set none. */
  @WithDefault("5m")
  Duration defaultInterval();

  /** Per-port dialogue deadline of endpoints that set none; the command's default too. */
  @WithDefault(ProbeOptions.DEFAULT_TIMEOUT)
  Duration defaultTimeout();

  /** TCP connect deadline of endpoints that set none; the command's default too. */
  @WithDefault(ProbeOptions.DEFAULT_CONNECT_TIMEOUT)
  Duration defaultConnectTimeout();

  /** The image probe pods run: the operator's own, whose entrypoint is the smtp-reach command. */
  @WithDefault("ghcr.io/smtp-reach/smtp-reach:0.1.0")
  String probeImage();

  /**
   * Secrets probe pods pull their image with (names, comma-separated): with a private registry,
   * without them every round ends {@code ImagePullFailed}. A pod names Secrets of its own
   * namespace, so each must exist in every namespace with endpoints.
   */
  Optional<List<String>> probeImagePullSecrets();

  /**
   * DNS blocklists (zones, comma-separated) to look up the egress address of endpoints that deliver
   * directly (port 25, {@code mxDomain}) in; none by default. Each costs a query per endpoint and
   * round from the probe pods' resolver: mind the lists' terms (Spamhaus refuses queries through
   * public resolvers, answering 127.255.255.254, shown as a list error, not a listing).
   */
  Optional<List<String>> dnsblZones();

  /** Resources of probe containers that set none. */
  ProbeResources probeResources();

  /** Probe pods that may exist at once, over all endpoints; rounds wait beyond that. */
  @WithDefault("200")
  int maxConcurrentProbePods();

  /**
   * Endpoints one probe pod probes at most (1 to 16). Endpoints in a namespace whose pods would be
   * alike share one; 1 gives each endpoint its own pod. Up to 12 four-port endpoints, the pod's
   * result keeps all the status shows; beyond, certificate subjects and then phase timings go.
   */
  @WithDefault("12")
  int probeBatchSize();

  /** How long a round waits for others to share its pod: the most a round starts late. */
  @WithDefault("1s")
  Duration probeBatchWindow();

  /**
   * How long a probe pod may stay Pending (unschedulable, for example) before its source counts as
   * not run: long enough for a cluster autoscaler, short enough to page.
   */
  @WithDefault("2m")
  Duration podStartTimeout();

  /** Added to the probe's own deadline for the process's start and exit. */
  @WithDefault("30s")
  Duration probeStartAllowance();

  /**
   * The leader-election Lease's name: replicas that share it elect one leader, so each deployment
   * needs its own (the chart names it after the release).
   */
  @WithDefault("smtp-reach-operator")
  String leaseName();

  /**
   * Where the leader-election Lease lives; by default the namespace the operator runs in (the
   * Deployment sets it from the downward API).
   */
  Optional<String> leaseNamespace();

  /**
   * The key that signs probe pods (at least 16 bytes), so that only pods this operator created are
   * read as results. Replicas must share it (the chart keeps it in a Secret); without one, each
   * process draws a random key and loses the rounds in flight when it stops.
   */
  Optional<String> podSigningKey();

  /** What endpoint authors may ask of probe pods. */
  ProbePolicy probePolicy();

  /** Resident probe agents: the node and zone egress without a pod per round. */
  Agents agents();

  /**
   * The operator's probe agents, in its own namespace: a Deployment per zone or node group, a
   * DaemonSet for EachNode, one Deployment for Any, created as endpoints need them.
   */
  interface Agents {
    /**
     * Off: {@code probe.mode: Auto} means a probe pod, and an endpoint asking for {@code Agent} is
     * not probed ({@code AgentsDisabled}).
     */
    @WithDefault("true")
    boolean enabled();

    /** The port agents listen on; the chart's NetworkPolicy lets only the operator reach it. */
    @WithDefault("8440")
    int port();

    /** Probes one agent runs at once; beyond that requests queue, up to {@link #maxQueued}. */
    @WithDefault("16")
    int maxConcurrent();

    /** Requests one agent holds waiting; beyond that it answers busy at once. */
    @WithDefault("64")
    int maxQueued();

    /** Calls to agents this operator makes at once, over all agents. */
    @WithDefault("32")
    int maxCalls();

    /**
     * The operator's Deployment in its namespace (the chart sets it): the agents' workloads name it
     * as their owner, so that uninstalling the operator deletes them too.
     */
    Optional<String> owner();

    @WithDefault("50m")
    String cpuRequest();

    @WithDefault("192Mi")
    String memoryRequest();

    @WithDefault("256Mi")
    String memoryLimit();
  }

  /**
   * The cluster admin's bounds on endpoints' {@code spec.probe}; a spec outside them gets {@code
   * ProbesRunning=False}, reason {@code ProbeNotAllowed}, and no round. Key patterns: a key, or a
   * prefix ending in {@code *}; {@code *} allows any.
   */
  interface ProbePolicy {
    /** The most CPU a probe container may request or be limited to. */
    @WithDefault("500m")
    String maxCpu();

    /** The most memory a probe container may request or be limited to; a limit is required. */
    @WithDefault("512Mi")
    String maxMemory();

    /** Taint keys endpoints may tolerate. */
    @WithDefault("*")
    List<String> allowedTolerationKeys();

    /** Node label keys endpoints may select nodes or group sources by. */
    @WithDefault("*")
    List<String> allowedNodeSelectorKeys();

    /** Label keys endpoints may not give their probe pods. */
    Optional<List<String>> reservedLabelKeys();
  }

  /** Default requests and limits of the probe container. */
  interface ProbeResources {
    @WithDefault("50m")
    String cpuRequest();

    @WithDefault("80Mi")
    String memoryRequest();

    @WithDefault("128Mi")
    String memoryLimit();
  }
}
