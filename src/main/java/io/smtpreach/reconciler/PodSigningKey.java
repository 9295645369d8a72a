package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.smtpreach.config.OperatorConfig;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Where the probe pods' signing key comes from: the setting if there is one, else a Secret of the
 * operator's own in its own namespace, created with a random key on first start. Every replica and
 * every restart reads the same key, so a round in flight survives a restart or a leader change.
 */
final class PodSigningKey {
  static final String SECRET = "smtp-reach-pod-signing";
  static final String KEY = "key";
  private static final Logger LOG = Logger.getLogger(PodSigningKey.class);

  private PodSigningKey() {}

  static PodSignature load(OperatorConfig config, KubernetesClient client) {
    Optional<String> configured =
        config.podSigningKey().map(String::strip).filter(k -> !k.isEmpty());
    if (configured.isPresent()) {
      return new PodSignature(configured.get().getBytes(StandardCharsets.UTF_8));
    }
    String namespace = config.leaseNamespace().orElse(client.getNamespace());
    try {
      return new PodSignature(
          fromSecret(
              client, namespace == null ? "default" : namespace, SECRET, PodSigningKey::random));
    } catch (KubernetesClientException e) {
      LOG.warnf(
          "cannot read or create Secret %s/%s (%s): signing probe pods with a random key; rounds"
              + " in flight when this process stops will report their sources as not run",
          namespace, SECRET, e.getMessage());
      return new PodSignature(random());
    }
  }

  /**
   * The key in Secret {@code name} of {@code namespace}, which this creates with {@code fresh}'s
   * bytes when it does not exist; another replica creating it first wins.
   */
  static byte[] fromSecret(
      KubernetesClient client, String namespace, String name, Supplier<byte[]> fresh) {
    var secrets = client.secrets().inNamespace(namespace);
    Secret secret = secrets.withName(name).get();
    if (secret == null) {
      Secret created =
          new SecretBuilder()
              .withNewMetadata()
              .withName(name)
              .withNamespace(namespace)
              .addToLabels(ProbePodFactory.MANAGED_BY_LABEL, ProbePodFactory.MANAGED_BY)
              .endMetadata()
              .withType("Opaque")
              .withData(Map.of(KEY, Base64.getEncoder().encodeToString(fresh.get())))
              .build();
      try {
        secret = secrets.resource(created).create();
        LOG.infof("created Secret %s/%s with a new random key", namespace, name);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        secret = secrets.withName(name).get(); // another replica was first
      }
    }
    String data = secret == null || secret.getData() == null ? null : secret.getData().get(KEY);
    if (data == null) {
      throw new KubernetesClientException("Secret " + name + " has no key '" + KEY + "'");
    }
    return Base64.getDecoder().decode(data.strip());
  }

  private static byte[] random() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return key;
  }
}
