package io.smtpreach.agent;

import java.util.List;

/**
 * The probe engine as the agent sees it: one endpoint's probe arguments in, a probe ready to run
 * out. The {@code smtp-reach} command implements it with the same picocli model and the same result
 * lines as {@code smtp-reach batch}, so the agent reads arguments exactly as a probe pod does
 * without this package knowing the command line (and the command depends on the agent, not the
 * other way round).
 */
@FunctionalInterface
public interface ProbeEngine {
  /** The endpoint's probe, or, for arguments the agent refuses, one that only says why. */
  PreparedProbe prepare(List<String> args);
}
