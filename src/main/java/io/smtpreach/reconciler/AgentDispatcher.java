package io.smtpreach.reconciler;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.smtpreach.api.ProbeVia;
import io.smtpreach.probe.BatchCodec;
import io.smtpreach.reconciler.ProbePodFactory.Member;
import io.smtpreach.status.ProbeRunFailure;
import io.smtpreach.status.SourceOutcome;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.jboss.logging.Logger;

/**
 * Asks the probe agent of each source for an endpoint's round and keeps what came back until the
 * round is read: the agent rounds' counterpart of {@link ProbeBatcher}. Each call ends by the
 * round's deadline, as an outcome: the agent's report, or {@code AgentUnavailable} when no agent of
 * the source became ready in time, it could not be reached, was busy, or its answer was not signed
 * with the agents' key. Outcomes live in this process only: after a restart the round asks again
 * (Round.collectFromAgents).
 */
final class AgentDispatcher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AgentDispatcher.class);

  /** How often a round waiting for its source's agent to become ready looks again. */
  private static final long WAIT_FOR_AGENT_MILLIS = 1000;

  /** A ready agent: where to call it, and the node it runs on. */
  record Target(URI uri, String node) {}

  /** The ready agent of a source, if there is one now. */
  interface Directory {
    Optional<Target> find(ProbeSource source);
  }

  /** One call to an agent: a probe's arguments in, its result entry out, by the deadline. */
  interface Transport {
    BatchCodec.Entry probe(URI agent, List<String> arguments, Instant deadline) throws Exception;
  }

  private final Directory directory;
  private final Transport transport;

  /** Wakes an endpoint when one of its calls ended. */
  private final Consumer<ResourceID> wake;

  private final Set<String> asked = ConcurrentHashMap.newKeySet();
  private final Map<String, SourceOutcome> outcomes = new ConcurrentHashMap<>();
  private final ExecutorService calls;
  private final ScheduledExecutorService waits = DaemonScheduler.named("smtp-reach-agent-waits");

  /** What a probe may take once its agent has it: the probe's deadline plus this. */
  private final Duration startAllowance;

  AgentDispatcher(
      Directory directory,
      Transport transport,
      int maxCalls,
      Duration startAllowance,
      Consumer<ResourceID> wake) {
    this.directory = directory;
    this.startAllowance = startAllowance;
    this.transport = transport;
    this.wake = wake;
    this.calls =
        Executors.newFixedThreadPool(
            maxCalls,
            r -> {
              Thread t = new Thread(r, "smtp-reach-agent-call");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Asks {@code source}'s agent to probe {@code member} for its round; a no-op if this process
   * asked already. The agent may take until {@code startBy} to become ready; the call ends by
   * {@code deadline}.
   */
  void ask(Member member, ProbeSource source, Instant startBy, Instant deadline) {
    String key = key(member.namespace(), member.name(), member.round(), source.name());
    if (asked.add(key)) {
      attempt(key, member, source, startBy, deadline);
    }
  }

  Optional<SourceOutcome> outcome(String namespace, String name, String round, String source) {
    return Optional.ofNullable(outcomes.get(key(namespace, name, round, source)));
  }

  boolean asked(String namespace, String name, String round, String source) {
    return asked.contains(key(namespace, name, round, source));
  }

  /** Forgets a finished round's calls. */
  void forget(String namespace, String name, String round, List<String> sources) {
    sources.forEach(
        s -> {
          asked.remove(key(namespace, name, round, s));
          outcomes.remove(key(namespace, name, round, s));
        });
  }

  /** Forgets the calls of every round for which {@code current} is false (superseded, deleted). */
  void retainOnly(Predicate<String[]> current) {
    Predicate<String> stale = key -> !current.test(key.split("/", 4));
    asked.removeIf(stale);
    outcomes.keySet().removeIf(stale);
  }

  private void attempt(
      String key, Member member, ProbeSource source, Instant startBy, Instant deadline) {
    if (!asked.contains(key)) {
      return; // forgotten meanwhile: the round was superseded
    }
    Optional<Target> target = directory.find(source);
    if (target.isEmpty()) {
      if (Instant.now().isBefore(startBy)) {
        waits.schedule(
            () -> attempt(key, member, source, startBy, deadline),
            WAIT_FOR_AGENT_MILLIS,
            TimeUnit.MILLISECONDS);
      } else {
        end(
            key,
            member,
            SourceOutcome.failed(
                source.name(),
                null,
                ProbeRunFailure.AgentUnavailable,
                "no ready probe agent for " + source.name() + " by " + startBy));
      }
      return;
    }
    Target agent = target.get();
    // The round's deadline leaves time for an agent pod to start; once an agent is ready, the
    // call gets what a probe pod would once started, so a silent agent costs no more than that.
    Instant byProbe = Instant.now().plus(member.settings().probeDeadline(startAllowance));
    Instant callDeadline = byProbe.isBefore(deadline) ? byProbe : deadline;
    calls.execute(() -> call(key, member, source, agent, callDeadline));
  }

  private void call(String key, Member member, ProbeSource source, Target agent, Instant deadline) {
    SourceOutcome outcome;
    try {
      BatchCodec.Entry entry =
          transport.probe(agent.uri(), member.settings().arguments(), deadline);
      outcome =
          entry.report() != null
              ? SourceOutcome.ran(source.name(), agent.node(), entry.report())
              : SourceOutcome.failed(
                  source.name(),
                  agent.node(),
                  ProbeRunFailure.ProbeMisconfigured,
                  ProbePodReader.message(entry.error()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      LOG.debugf("%s: agent %s: %s", key, agent.uri(), e.getMessage());
      outcome =
          SourceOutcome.failed(
              source.name(),
              agent.node(),
              ProbeRunFailure.AgentUnavailable,
              "the probe agent of "
                  + source.name()
                  + " on "
                  + agent.node()
                  + " did not answer: "
                  + ProbePodReader.message(String.valueOf(e.getMessage())));
    }
    end(key, member, outcome);
  }

  private void end(String key, Member member, SourceOutcome outcome) {
    if (asked.contains(key)) {
      outcomes.put(key, outcome.via(ProbeVia.Agent));
      wake.accept(new ResourceID(member.name(), member.namespace()));
    }
  }

  @Override
  public void close() {
    calls.shutdownNow();
    waits.shutdownNow();
  }

  private static String key(String namespace, String name, String round, String source) {
    return namespace + "/" + name + "/" + round + "/" + source;
  }
}
