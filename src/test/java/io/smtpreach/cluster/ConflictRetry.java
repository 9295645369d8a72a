package io.smtpreach.cluster;

import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Read-modify-write against the API server, again on a 409: node and pod status are also written by
 * the control plane (node-lifecycle controller, scheduler), as with a real kubelet.
 */
final class ConflictRetry {
  private static final int ATTEMPTS = 10;

  private ConflictRetry() {}

  static void run(Runnable edit) {
    for (int attempt = 1; ; attempt++) {
      try {
        edit.run();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
      }
    }
  }
}
