package io.smtpreach.cluster;

import java.util.Map;

/**
 * The Kubernetes releases the tests' control plane is built at: the newest (every test) and the
 * oldest the chart claims (hack/controlplane/k8s-oldest, OldestKubernetesIT).
 */
public enum KubernetesRelease {
  NEWEST,
  OLDEST;

  /** The environment that makes hack/control-plane.sh and hack/local-cluster.sh use it. */
  Map<String, String> environment() {
    return Map.of("SMTP_REACH_KUBERNETES", name().toLowerCase(java.util.Locale.ROOT));
  }
}
