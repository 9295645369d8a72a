package io.smtpreach.reconciler;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ConfigMapKeySelector;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.smtpreach.api.AuthSpec;
import io.smtpreach.api.CaBundleSource;
import io.smtpreach.api.Placement;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.api.SmtpEndpointStatus;
import io.smtpreach.api.TlsSpec;
import io.smtpreach.peers.PostfixPeer;
import io.smtpreach.status.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * What a user does with SmtpEndpoints in the operator's end-to-end tests, and what they wait for:
 * create one (with the test Postfix's CA in a ConfigMap and its credential in a Secret), edit it,
 * ask for a probe now, and wait for rounds and conditions.
 */
public final class EndpointSteps {
  private final KubernetesClient k;
  private final Path caFile;

  public EndpointSteps(KubernetesClient k, Path caFile) {
    this.k = k;
    this.caFile = caFile;
  }

  /**
   * The test Postfix at {@code host}: its certificate checked against the CA that {@link #create}
   * puts in ConfigMap smtp-ca, under the name smtp.test; a 3 s connect timeout.
   */
  public static SmtpEndpointSpec postfix(String host) {
    SmtpEndpointSpec spec = new SmtpEndpointSpec();
    spec.host = host;
    spec.connectTimeout = "3s";
    spec.tls = new TlsSpec();
    spec.tls.serverName = "smtp.test";
    spec.tls.caBundle = new CaBundleSource();
    spec.tls.caBundle.configMapKeyRef = new ConfigMapKeySelector("ca.pem", "smtp-ca", false);
    spec.probe = new ProbeSpec();
    return spec;
  }

  /** {@link #postfix} from every zone, with AUTH from the Secret {@link #create} makes. */
  public static SmtpEndpointSpec postfixPerZone(String host) {
    SmtpEndpointSpec spec = postfix(host);
    spec.auth = new AuthSpec();
    spec.auth.secretRef = new AuthSpec.SecretRef();
    spec.auth.secretRef.name = "smtp-credentials";
    spec.probe.placement = Placement.PerNodeGroup;
    spec.probe.nodeLabel = "topology.kubernetes.io/zone";
    return spec;
  }

  public SmtpEndpoint create(String ns, String name, SmtpEndpointSpec spec) {
    try {
      k.configMaps()
          .inNamespace(ns)
          .resource(
              new ConfigMapBuilder()
                  .withNewMetadata()
                  .withName("smtp-ca")
                  .endMetadata()
                  .addToData("ca.pem", Files.readString(caFile))
                  .build())
          .createOr(r -> r.update());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    k.secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("smtp-credentials")
                .endMetadata()
                .addToStringData("username", PostfixPeer.USER)
                .addToStringData("password", PostfixPeer.PASSWORD)
                .build())
        .createOr(r -> r.update());
    SmtpEndpoint ep = new SmtpEndpoint();
    ep.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    ep.setSpec(spec);
    return k.resources(SmtpEndpoint.class).inNamespace(ns).resource(ep).create();
  }

  public Resource<SmtpEndpoint> endpoint(String ns, String name) {
    return k.resources(SmtpEndpoint.class).inNamespace(ns).withName(name);
  }

  public SmtpEndpoint get(String ns, String name) {
    return endpoint(ns, name).get();
  }

  /** No round in progress: none, or only the next one, scheduled (it starts in the future). */
  public static boolean idle(SmtpEndpointStatus s) {
    return s.round == null || Instant.parse(s.round.startedAt).isAfter(Instant.now());
  }

  /**
   * Waits for a finished round newer than {@code after} (a lastProbeTime, or null for the first).
   */
  public SmtpEndpointStatus awaitRound(String ns, String name, String after) {
    return await("a finished round of " + name)
        .until(
            () -> get(ns, name).getStatus(),
            s -> s != null && idle(s) && s.lastProbeTime != null && !s.lastProbeTime.equals(after));
  }

  public SmtpEndpointStatus awaitCondition(String ns, String name, String type, String status) {
    return await(type + "=" + status)
        .until(
            () -> get(ns, name).getStatus(),
            s ->
                s != null
                    && idle(s)
                    && Conditions.find(s.conditions, type)
                        .filter(c -> c.getStatus().equals(status))
                        .isPresent());
  }

  /** Sets the probe-now annotation to a new value and waits for the round it starts. */
  public SmtpEndpointStatus probeNow(String ns, String name) {
    String value = requestProbeNow(ns, name);
    return await("probe-now " + value)
        .until(() -> get(ns, name).getStatus(), s -> value.equals(s.probeNowHandled) && idle(s));
  }

  /** Sets the probe-now annotation to a new value, without waiting; returns the value. */
  public String requestProbeNow(String ns, String name) {
    String value = UUID.randomUUID().toString();
    edit(
        ns,
        name,
        e -> {
          if (e.getMetadata().getAnnotations() == null) {
            e.getMetadata().setAnnotations(new java.util.HashMap<>());
          }
          e.getMetadata().getAnnotations().put(SmtpEndpoint.PROBE_NOW_ANNOTATION, value);
          return e;
        });
    return value;
  }

  public SmtpEndpointStatus edit(String ns, String name, UnaryOperator<SmtpEndpoint> change) {
    return endpoint(ns, name).edit(change).getStatus();
  }
}
