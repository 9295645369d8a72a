package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.status.StatusAggregator;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Writes Kubernetes Events about an endpoint, as {@code kubectl describe} and event exporters read
 * them. An Event that cannot be written is logged, never fatal: the status holds the truth.
 */
public final class EventRecorder {
  private static final Logger LOG = Logger.getLogger(EventRecorder.class);
  private static final String COMPONENT = "smtp-reach";

  public enum Type {
    Normal,
    Warning
  }

  private final KubernetesClient client;
  private final String instance;

  public EventRecorder(KubernetesClient client, String instance) {
    this.client = client;
    this.instance = instance;
  }

  public void record(SmtpEndpoint endpoint, Type type, String reason, String message) {
    String now = StatusAggregator.timestamp(Instant.now());
    String namespace = endpoint.getMetadata().getNamespace();
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withGenerateName(endpoint.getMetadata().getName() + ".")
            .withNamespace(namespace)
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion(endpoint.getApiVersion())
            .withKind(endpoint.getKind())
            .withName(endpoint.getMetadata().getName())
            .withNamespace(namespace)
            .withUid(endpoint.getMetadata().getUid())
            .endInvolvedObject()
            .withType(type.name())
            .withReason(reason)
            .withMessage(message.length() <= 1024 ? message : message.substring(0, 1023) + "…")
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .withReportingInstance(instance)
            .build();
    try {
      client.v1().events().inNamespace(namespace).resource(event).create();
    } catch (KubernetesClientException e) {
      LOG.warnf(
          "could not record event %s for %s/%s: %s",
          reason, namespace, endpoint.getMetadata().getName(), e.getMessage());
    }
  }
}
