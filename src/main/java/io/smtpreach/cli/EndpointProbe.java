package io.smtpreach.cli;

import io.smtpreach.agent.PreparedProbe;
import io.smtpreach.probe.BatchCodec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * One endpoint's {@code probe} arguments read through the probe command's model, then probed: the
 * part of {@code smtp-reach batch} that a probe pod and a resident agent share, so that the same
 * arguments give the same result line (or the same usage error) in both.
 *
 * <p>An agent's request is stricter than a pod's arguments: the agent holds no endpoint's Secret or
 * ConfigMap, and its arguments come over the network, so only options whose values are data are
 * allowed, its environment is not read, and no option that names a file (CA bundle, password,
 * result file) is accepted, so nothing on the agent's file system is ever opened, or even looked
 * at, for a request.
 */
public final class EndpointProbe implements PreparedProbe {
  /**
   * The options an agent request may give (by their longest name): the probe's targets, deadlines
   * and names. Anything else (files, credentials, output, help) refuses the endpoint.
   */
  public static final Set<String> AGENT_OPTIONS =
      Set.of(
          "--mx",
          "--port",
          "--connect-timeout",
          "--read-timeout",
          "--timeout",
          "--dns-timeout",
          "--ehlo",
          "--server-name",
          "--insecure",
          "--min-tls",
          "--ip-family",
          "--dns-server",
          "--dnsbl");

  /** After its timeout a probe's result comes within this (the engine's deadline slack). */
  static final Duration SLACK = Duration.ofSeconds(1);

  private final ProbeCommand.Plan plan;
  private final String refusal;

  private EndpointProbe(ProbeCommand.Plan plan, String refusal) {
    this.plan = plan;
    this.refusal = refusal;
  }

  /** As a probe pod reads an endpoint's arguments: every option, and the pod's environment. */
  static EndpointProbe forPod(List<String> args) {
    return read(args, System.getenv(), null);
  }

  /**
   * As a resident agent reads them: data options only ({@link #AGENT_OPTIONS}), no environment, no
   * word that would be an {@code @file} elsewhere.
   */
  public static EndpointProbe forAgent(List<String> args) {
    for (String word : args) {
      if (word.startsWith("@")) {
        return new EndpointProbe(null, "an agent request takes no @file: " + word);
      }
    }
    return read(args, Map.of(), AGENT_OPTIONS);
  }

  private static EndpointProbe read(
      List<String> args, Map<String, String> environment, Set<String> allowed) {
    // A command each: picocli does not reset an option of an argument group between parses.
    ProbeCommand command = new ProbeCommand();
    command.environment = environment;
    try {
      CommandLine.ParseResult parsed =
          new CommandLine(command.spec).parseArgs(args.toArray(String[]::new));
      if (allowed != null) {
        for (OptionSpec option : parsed.matchedOptions()) {
          if (!allowed.contains(option.longestName())) {
            return new EndpointProbe(
                null, option.longestName() + " cannot be given to a probe agent");
          }
        }
      }
      // After the check above: planning is where the probe command looks at its files.
      return new EndpointProbe(command.plan(), null);
    } catch (CommandLine.ParameterException e) {
      return new EndpointProbe(null, e.getMessage());
    }
  }

  @Override
  public boolean refused() {
    return plan == null;
  }

  @Override
  public Duration budget() {
    return refused() ? Duration.ZERO : plan.options().timeout().plus(SLACK);
  }

  @Override
  public BatchCodec.Entry run() {
    if (refused()) {
      return BatchCodec.Entry.failed(refusal);
    }
    try {
      return BatchCodec.Entry.probed(plan.run());
    } catch (RuntimeException e) {
      return failed(e);
    }
  }

  private static BatchCodec.Entry failed(Throwable cause) {
    // A CA bundle that cannot be read is a usage error, said as the probe command says it.
    return BatchCodec.Entry.failed(
        cause instanceof IllegalArgumentException
            ? cause.getMessage()
            : cause.getClass().getSimpleName() + ": " + cause.getMessage());
  }
}
