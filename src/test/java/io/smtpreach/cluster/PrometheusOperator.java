package io.smtpreach.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import org.awaitility.Awaitility;

/**
 * prometheus-operator, built from its Go module ({@code hack/prometheus-operator.sh}), running as a
 * process against a local cluster with its own CRDs applied. It turns ServiceMonitors and
 * PrometheusRules into the configuration and rule files of a Prometheus resource, as it does for
 * kube-prometheus-stack users; {@link Generated} is that configuration, which a Prometheus process
 * on this machine runs as generated but for its Kubernetes discovery, which the harness plays.
 */
public final class PrometheusOperator implements AutoCloseable {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path SCRIPT = ProjectPaths.hack("prometheus-operator.sh");

  private final Process process;
  private final Path log;

  private PrometheusOperator(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Skips (or fails under SMTP_REACH_REQUIRE_ALL=1) when it is not built and cannot be. */
  public static void requireSupport() {
    Path bin = Path.of(lastLine(run("path")));
    Requirements.require(
        Files.isExecutable(bin) || Requirements.onPath("go"),
        "prometheus-operator is not built and there is no go to build it"
            + " (hack/prometheus-operator.sh build)");
  }

  /** Applies its CRDs to {@code cluster} and starts it there; its log goes to {@code dir}. */
  public static PrometheusOperator start(LocalCluster cluster, Path dir) {
    requireSupport();
    run("build");
    Path bin = Path.of(lastLine(run("path")));
    OperatorInstall.applyCrds(cluster.client(), Path.of(lastLine(run("crds"))), "*.yaml");
    try {
      Files.createDirectories(dir);
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path log = dir.resolve("prometheus-operator.log");
      ProcessBuilder pb =
          new ProcessBuilder(
                  bin.toString(),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--log-level=info",
                  "--kubelet-service=",
                  "--prometheus-config-reloader=localhost/unused/config-reloader:none")
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      pb.environment().put("KUBECONFIG", cluster.kubeconfig().toString());
      return new PrometheusOperator(pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Creates Prometheus {@code name} in {@code namespace} selecting every ServiceMonitor and
   * PrometheusRule, with no replicas (Prometheus runs as a process here, not from an image);
   * returns what the operator generated for it once {@code ready} holds for the configuration.
   */
  public Generated awaitGenerated(
      KubernetesClient k,
      String namespace,
      String name,
      java.util.function.Predicate<Generated> ready) {
    k.resource(
            k.getKubernetesSerialization()
                .unmarshal(
                    """
                    apiVersion: monitoring.coreos.com/v1
                    kind: Prometheus
                    metadata: {name: %s, namespace: %s}
                    spec:
                      replicas: 0
                      serviceMonitorSelector: {}
                      serviceMonitorNamespaceSelector: {}
                      ruleSelector: {}
                      ruleNamespaceSelector: {}
                    """
                        .formatted(name, namespace),
                    GenericKubernetesResource.class))
        .serverSideApply();
    return Awaitility.await("prometheus-operator's configuration for " + namespace + "/" + name)
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> generated(k, namespace, name), g -> g != null && ready.test(g));
  }

  /** The operator's log so far, for failure messages. */
  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Prometheus' configuration and rule files (name to contents) as the operator wrote them. */
  public record Generated(String config, Map<String, String> rules) {
    /** Whether the configuration scrapes ServiceMonitor {@code namespace/name}. */
    public boolean scrapes(String namespace, String name) {
      return config.contains("serviceMonitor/" + namespace + "/" + name + "/");
    }

    /**
     * The configuration for a Prometheus process on this machine: the rule files in {@code
     * rulesDir}, the given intervals, the config-reloader's $(SHARD) and $(POD_NAME) filled in, and
     * each Kubernetes endpoints discovery replaced by the targets it would find now, with the meta
     * labels it would give them (Debian's Prometheus is built without Kubernetes discovery). The
     * operator's relabelings, honor_labels and all else stay as generated.
     */
    public String forProcess(KubernetesClient k, Path rulesDir, Duration interval) {
      try {
        String filled = config.replace("$(SHARD)", "0").replace("$(POD_NAME)", "prometheus-k8s-0");
        ObjectNode root = (ObjectNode) YAML.readTree(filled);
        ObjectNode global = root.with("global");
        global.put("scrape_interval", interval.toSeconds() + "s");
        global.put("evaluation_interval", interval.toSeconds() + "s");
        global.remove("scrape_timeout");
        for (JsonNode j : root.path("scrape_configs")) {
          ObjectNode job = (ObjectNode) j;
          job.remove("scrape_interval");
          job.remove("scrape_timeout");
          JsonNode sds = job.remove("kubernetes_sd_configs");
          if (sds == null) {
            continue;
          }
          ArrayNode statics = job.putArray("static_configs");
          for (JsonNode sd : sds) {
            if (!"endpoints".equals(sd.path("role").asText())) {
              throw new IllegalStateException("only role endpoints is played here: " + sd);
            }
            for (JsonNode ns : sd.path("namespaces").path("names")) {
              endpointTargets(k, ns.asText()).forEach(statics::add);
            }
          }
        }
        root.putArray("rule_files").add(rulesDir.resolve("*.yaml").toString());
        return YAML.writeValueAsString(root);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** What Kubernetes discovery (role endpoints) finds in {@code namespace}: a target per port. */
    private static List<ObjectNode> endpointTargets(KubernetesClient k, String namespace) {
      List<ObjectNode> targets = new java.util.ArrayList<>();
      for (var eps : k.endpoints().inNamespace(namespace).list().getItems()) {
        var service =
            k.services().inNamespace(namespace).withName(eps.getMetadata().getName()).get();
        if (service == null || eps.getSubsets() == null) {
          continue;
        }
        for (var subset : eps.getSubsets()) {
          for (var port : subset.getPorts()) {
            for (var address :
                subset.getAddresses() == null
                    ? List.<io.fabric8.kubernetes.api.model.EndpointAddress>of()
                    : subset.getAddresses()) {
              ObjectNode t = YAML.createObjectNode();
              t.putArray("targets").add(address.getIp() + ":" + port.getPort());
              ObjectNode labels = t.putObject("labels");
              labels.put("__meta_kubernetes_namespace", namespace);
              labels.put("__meta_kubernetes_service_name", service.getMetadata().getName());
              service
                  .getMetadata()
                  .getLabels()
                  .forEach(
                      (key, v) -> {
                        labels.put("__meta_kubernetes_service_label_" + sanitize(key), v);
                        labels.put(
                            "__meta_kubernetes_service_labelpresent_" + sanitize(key), "true");
                      });
              labels.put(
                  "__meta_kubernetes_endpoint_port_name",
                  port.getName() == null ? "" : port.getName());
              labels.put("__meta_kubernetes_endpoint_ready", "true");
              var target = address.getTargetRef();
              if (target != null && "Pod".equals(target.getKind())) {
                labels.put("__meta_kubernetes_endpoint_address_target_kind", "Pod");
                labels.put("__meta_kubernetes_endpoint_address_target_name", target.getName());
                var pod = k.pods().inNamespace(namespace).withName(target.getName()).get();
                if (pod != null) {
                  labels.put("__meta_kubernetes_pod_name", pod.getMetadata().getName());
                  labels.put("__meta_kubernetes_pod_phase", pod.getStatus().getPhase());
                  labels.put("__meta_kubernetes_pod_node_name", pod.getSpec().getNodeName());
                  pod.getSpec().getContainers().stream()
                      .filter(
                          c ->
                              c.getPorts() != null
                                  && c.getPorts().stream()
                                      .anyMatch(cp -> cp.getContainerPort().equals(port.getPort())))
                      .findFirst()
                      .ifPresent(
                          c -> labels.put("__meta_kubernetes_pod_container_name", c.getName()));
                }
              }
              targets.add(t);
            }
          }
        }
      }
      return targets;
    }

    private static String sanitize(String labelName) {
      return labelName.replaceAll("[^a-zA-Z0-9_]", "_");
    }
  }

  private static Generated generated(KubernetesClient k, String namespace, String name)
      throws IOException {
    Secret secret = k.secrets().inNamespace(namespace).withName("prometheus-" + name).get();
    if (secret == null
        || secret.getData() == null
        || !secret.getData().containsKey("prometheus.yaml.gz")) {
      return null;
    }
    byte[] gz = Base64.getDecoder().decode(secret.getData().get("prometheus.yaml.gz"));
    String config;
    try (var in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      config = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Map<String, String> rules = new TreeMap<>();
    List<ConfigMap> maps =
        k.configMaps().inNamespace(namespace).withLabel("prometheus-name", name).list().getItems();
    for (ConfigMap m : maps) {
      if (m.getData() != null) {
        rules.putAll(m.getData());
      }
    }
    return new Generated(config, rules);
  }

  /** The last line: the scripts print their answer last, after what the go command says. */
  private static String lastLine(String output) {
    List<String> lines = output.strip().lines().toList();
    return lines.get(lines.size() - 1).strip();
  }

  private static String run(String command) {
    return ProcessRunner.run(List.of(SCRIPT.toString(), command), 1800)
        .orThrow("hack/prometheus-operator.sh " + command)
        .output();
  }
}
