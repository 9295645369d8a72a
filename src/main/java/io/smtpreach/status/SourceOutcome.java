package io.smtpreach.status;

import io.smtpreach.api.ProbeVia;
import io.smtpreach.probe.ProbeReport;

/**
 * What one source of a round produced: a report, or the reason it could not run.
 *
 * @param source the node-label value, node name, or {@code any}
 * @param node the node the pod ran on; may be null
 * @param via what probed (or was to probe) the source
 */
public record SourceOutcome(
    String source,
    String node,
    ProbeReport report,
    ProbeRunFailure failure,
    String message,
    ProbeVia via) {

  /** An outcome of a probe pod. */
  public SourceOutcome(
      String source, String node, ProbeReport report, ProbeRunFailure failure, String message) {
    this(source, node, report, failure, message, ProbeVia.Pod);
  }

  public static SourceOutcome ran(String source, String node, ProbeReport report) {
    return new SourceOutcome(source, node, report, null, null);
  }

  public static SourceOutcome failed(
      String source, String node, ProbeRunFailure failure, String message) {
    return new SourceOutcome(source, node, null, failure, message);
  }

  /** The same outcome, from {@code via}. */
  public SourceOutcome via(ProbeVia via) {
    return new SourceOutcome(source, node, report, failure, message, via);
  }

  public boolean ran() {
    return report != null;
  }
}
