package io.smtpreach.cli;

import io.smtpreach.agent.AgentKeys;
import io.smtpreach.agent.AgentLimits;
import io.smtpreach.agent.PreparedProbeCache;
import io.smtpreach.agent.ProbeAgent;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code smtp-reach agent --listen PORT --key-file FILE}: the resident probe agent, which probes
 * the endpoints the operator's signed requests name, with the probe command's engine and arguments
 * ({@link EndpointProbe#forAgent}), and answers with the lines {@code smtp-reach batch} writes. It
 * runs until SIGTERM, then answers what it has taken on and stops ({@link ProbeAgent#shutdown}).
 */
public final class AgentCommand implements Callable<Integer> {
  /** Seconds the JDK's HTTP server gives a connection to send its whole request. */
  static final String MAX_REQUEST_READ_SECONDS = "sun.net.httpserver.maxReqTime";

  /**
   * Endpoints whose read arguments an agent keeps: more than a zone's agent is asked for each round
   * in the largest figures (5,000 endpoints), at a few KB each.
   */
  static final int PREPARED_PROBES = 8192;

  final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);

  AgentCommand() {
    spec.name("agent");
    ProbeCommand.dataOnly(spec);
    spec.usageMessage()
        .description(
            "Serves probe requests signed by the operator: a resident alternative to a probe pod"
                + " per round.");
    spec.addOption(
        OptionSpec.builder("--listen")
            .paramLabel("PORT")
            .required(true)
            .type(int.class)
            .description("TCP port to serve on, on every address.")
            .build());
    spec.addOption(
        OptionSpec.builder("--key-file")
            .paramLabel("FILE")
            .required(true)
            .type(String.class)
            .description(
                "The shared keys, one per line, at least 32 bytes each (the operator signs with"
                    + " the first); re-read when it changes.")
            .build());
    spec.addOption(
        OptionSpec.builder("--max-concurrent")
            .paramLabel("N")
            .type(int.class)
            .defaultValue(String.valueOf(AgentLimits.DEFAULT_MAX_CONCURRENT))
            .description("Endpoints probed at once (default ${DEFAULT-VALUE}).")
            .build());
    spec.addOption(
        OptionSpec.builder("--max-queued")
            .paramLabel("M")
            .type(int.class)
            .defaultValue(String.valueOf(AgentLimits.DEFAULT_MAX_QUEUED))
            .description(
                "Endpoints waiting for their turn; a request beyond gets 503 at once (default"
                    + " ${DEFAULT-VALUE}).")
            .build());
    spec.addOption(
        OptionSpec.builder("-h", "--help")
            .usageHelp(true)
            .description("Show this help message and exit.")
            .build());
  }

  private <T> T value(String name) {
    return spec.findOption(name).getValue();
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    int port = value("--listen");
    int maxConcurrent = value("--max-concurrent");
    int maxQueued = value("--max-queued");
    if (port < 0 || port > 65535 || maxConcurrent < 1 || maxQueued < 0) {
      throw new ParameterException(
          spec.commandLine(),
          "--listen must be a port, --max-concurrent at least 1, --max-queued at least 0");
    }
    Path keyFile = Path.of(this.<String>value("--key-file"));
    AgentKeys keys;
    try {
      keys = AgentKeys.fromFile(keyFile, AgentKeys.DEFAULT_RECHECK);
    } catch (IOException | IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "cannot read key file " + keyFile + ": " + e.getMessage());
    }
    // The JDK's HTTP server waits for a request's bytes for ever unless told: a client that sends
    // its request slowly, or not at all, would hold one of the agent's threads. Once a request is
    // read, the answer may take as long as its deadline, so only the reading is bounded.
    if (System.getProperty(MAX_REQUEST_READ_SECONDS) == null) {
      System.setProperty(MAX_REQUEST_READ_SECONDS, "30");
    }
    ProbeAgent agent =
        ProbeAgent.start(
            new InetSocketAddress(port),
            keys,
            new PreparedProbeCache(EndpointProbe::forAgent, PREPARED_PROBES),
            AgentLimits.defaults().withConcurrency(maxConcurrent, maxQueued),
            Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.close();
                  stopped.countDown();
                },
                "agent-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.println("smtp-reach agent: serving on port " + agent.address().getPort());
    out.flush();
    // Until SIGTERM: the JVM ends once the shutdown hook has let the agent finish.
    stopped.await();
    return ExitCodes.AS_EXPECTED;
  }
}
