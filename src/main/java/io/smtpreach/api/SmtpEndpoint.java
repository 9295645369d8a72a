package io.smtpreach.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * An SMTP server to check continuously from the cluster's real egress path: which of its ports
 * answer, in which TLS mode, from where.
 */
@Group(SmtpEndpoint.GROUP)
@Version(SmtpEndpoint.VERSION)
@ShortNames("smtpep")
// The endpoint's own ports, whichever they are: the one-line summary, not a column per port.
@AdditionalPrinterColumn(
    name = "Target",
    jsonPath = ".spec['host','mxDomain']",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Ports",
    jsonPath = ".status.summary",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Recommended",
    jsonPath = ".status.recommended",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SmtpEndpoint extends CustomResource<SmtpEndpointSpec, SmtpEndpointStatus>
    implements Namespaced {
  public static final String GROUP = "smtpreach.io";
  public static final String VERSION = "v1alpha1";

  /** Any new value of this annotation starts a probe round at once. */
  public static final String PROBE_NOW_ANNOTATION = GROUP + "/probe-now";
}
