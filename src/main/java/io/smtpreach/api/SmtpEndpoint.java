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
@AdditionalPrinterColumn(
    name = "Host",
    jsonPath = ".spec.host",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "587",
    jsonPath = ".status.ports[?(@.port==587)].state",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "465",
    jsonPath = ".status.ports[?(@.port==465)].state",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "2525",
    jsonPath = ".status.ports[?(@.port==2525)].state",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "25",
    jsonPath = ".status.ports[?(@.port==25)].state",
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
    name = "Summary",
    jsonPath = ".status.summary",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
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
