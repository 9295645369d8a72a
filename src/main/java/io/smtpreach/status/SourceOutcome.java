package io.smtpreach.status;

import io.smtpreach.probe.ProbeReport;

/**
 * What one source of a round produced: a report, or the reason it could not run.
 *
 * @param source the node-label value, node name, or {@code any}
 * @param node the node the pod ran on; may be null
 */
public record SourceOutcome(
    String source, String node, ProbeReport report, ProbeRunFailure failure, String message) {

  public static SourceOutcome ran(String source, String node, ProbeReport report) {
    return new SourceOutcome(source, node, report, null, null);
  }

  public static SourceOutcome failed(
      String source, String node, ProbeRunFailure failure, String message) {
    return new SourceOutcome(source, node, null, failure, message);
  }

  public boolean ran() {
    return report != null;
  }
}
