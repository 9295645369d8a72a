package io.smtpreach.reconciler;

import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.smtpreach.api.SmtpEndpoint;
import java.util.Map;
import java.util.Objects;

/**
 * Lets through only the updates of an endpoint that ask for work: a spec change (new generation) or
 * a new probe-now value. The operator's own status writes would otherwise wake it each time.
 */
public final class ProbeTriggerFilter implements OnUpdateFilter<SmtpEndpoint> {
  @Override
  public boolean accept(SmtpEndpoint updated, SmtpEndpoint old) {
    return !Objects.equals(updated.getMetadata().getGeneration(), old.getMetadata().getGeneration())
        || !Objects.equals(probeNow(updated), probeNow(old));
  }

  private static String probeNow(SmtpEndpoint e) {
    Map<String, String> a = e.getMetadata().getAnnotations();
    return a == null ? null : a.get(SmtpEndpoint.PROBE_NOW_ANNOTATION);
  }
}
