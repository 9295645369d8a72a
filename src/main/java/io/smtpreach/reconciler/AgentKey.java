package io.smtpreach.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The key the operator signs its requests to probe agents with, and agents their answers: Secret
 * {@value AgentWorkloads#KEY_SECRET} of the operator's namespace, which agents mount as their key
 * file. Created with a random key on the operator's first start (a chart template cannot make one
 * that {@code helm template} renders the same twice); every replica reads the same.
 */
final class AgentKey {
  private AgentKey() {}

  static byte[] load(KubernetesClient client, String namespace) {
    return PodSigningKey.fromSecret(client, namespace, AgentWorkloads.KEY_SECRET, AgentKey::fresh);
  }

  /** 32 random bytes as URL-safe base64 text: the key file holds one key per line of text. */
  private static byte[] fresh() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(random)
        .getBytes(StandardCharsets.US_ASCII);
  }
}
