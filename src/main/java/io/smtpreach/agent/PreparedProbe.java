package io.smtpreach.agent;

import io.smtpreach.probe.BatchCodec;
import java.time.Duration;

/** One endpoint's probe, its arguments read and checked, not yet run. */
public interface PreparedProbe {
  /** Whether the arguments were refused; {@link #run()} then says why at once, probing nothing. */
  boolean refused();

  /**
   * How long the probe may take: its own {@code --timeout} plus the engine's slack, after which its
   * result comes whatever its servers do. The agent starts it only if that fits before the
   * request's deadline.
   */
  Duration budget();

  /** Probes (unless refused) and returns the endpoint's result line, never throwing for a probe. */
  BatchCodec.Entry run();
}
