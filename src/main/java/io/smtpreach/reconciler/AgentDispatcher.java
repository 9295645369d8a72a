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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
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

  /** Calls to one agent under way at once; more asks wait and then share a call. */
  static final int CALLS_PER_AGENT = 4;

  /**
   * Endpoints in one call at most: within the agents' own limits (64 per request, 16 probing and 64
   * waiting), so that an agent takes {@link #CALLS_PER_AGENT} full calls at once.
   */
  static final int ENDPOINTS_PER_CALL = 16;

  /** How often a round waiting for its source's agent to become ready looks again. */
  private static final long WAIT_FOR_AGENT_MILLIS = 1000;

  /** A ready agent: where to call it, and the node it runs on. */
  record Target(URI uri, String node) {}

  /** The ready agent of a source, if there is one now. */
  interface Directory {
    Optional<Target> find(ProbeSource source);
  }

  /**
   * One call to an agent: each endpoint's probe arguments in, their result entries out, in order,
   * by the deadline.
   */
  interface Transport {
    List<BatchCodec.Entry> probe(URI agent, List<List<String>> arguments, Instant deadline)
        throws Exception;
  }

  /** An ask whose agent is ready, waiting for its call. */
  private record Waiting(
      String key,
      Member member,
      ProbeSource source,
      Target agent,
      Instant roundDeadline,
      Duration probeDeadline) {}

  /** One agent's waiting asks and the number of its calls under way; guarded by itself. */
  private static final class AgentCalls {
    final Deque<Waiting> waiting = new ArrayDeque<>();
    int underWay;

    /**
     * The asks of the next call, or null when none may start now. A call's asks have the same probe
     * deadline, which none of their rounds cuts short: a probe never gets less time for having
     * shared a call.
     */
    List<Waiting> next(Instant now) {
      if (underWay >= CALLS_PER_AGENT || waiting.isEmpty()) {
        return null;
      }
      Waiting head = waiting.poll();
      List<Waiting> call = new ArrayList<>(List.of(head));
      Instant byProbe = now.plus(head.probeDeadline());
      if (!head.roundDeadline().isBefore(byProbe)) {
        for (Iterator<Waiting> it = waiting.iterator();
            it.hasNext() && call.size() < ENDPOINTS_PER_CALL; ) {
          Waiting w = it.next();
          if (w.probeDeadline().equals(head.probeDeadline())
              && !w.roundDeadline().isBefore(byProbe)) {
            call.add(w);
            it.remove();
          }
        }
      }
      underWay++;
      return call;
    }
  }

  private final Directory directory;
  private final Transport transport;

  /** Wakes an endpoint when one of its calls ended. */
  private final Consumer<ResourceID> wake;

  private final Set<String> asked = ConcurrentHashMap.newKeySet();
  private final Map<String, SourceOutcome> outcomes = new ConcurrentHashMap<>();
  private final Map<URI, AgentCalls> byAgent = new ConcurrentHashMap<>();
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
    enqueue(
        new Waiting(
            key,
            member,
            source,
            target.get(),
            deadline,
            member.settings().probeDeadline(startAllowance)));
  }

  private void enqueue(Waiting ask) {
    AgentCalls agent = byAgent.computeIfAbsent(ask.agent().uri(), u -> new AgentCalls());
    List<Waiting> call;
    synchronized (agent) {
      agent.waiting.add(ask);
      call = agent.next(Instant.now());
    }
    if (call != null) {
      calls.execute(() -> callThenNext(ask.agent().uri(), agent, call));
    }
  }

  /**
   * Makes {@code call}, then hands the asks that waited meanwhile to the pool as the agent's next
   * call: behind the calls of other agents already queued there, so that a busy agent does not keep
   * the pool's threads from the rest.
   */
  private void callThenNext(URI uri, AgentCalls agent, List<Waiting> call) {
    List<Waiting> next;
    try {
      call(call);
    } finally {
      synchronized (agent) {
        agent.underWay--;
        next = agent.next(Instant.now());
        if (next == null && agent.underWay == 0) {
          byAgent.remove(uri, agent); // an ask arriving now starts its own
        }
      }
    }
    if (next != null) {
      calls.execute(() -> callThenNext(uri, agent, next));
    }
  }

  private void call(List<Waiting> asks) {
    List<Waiting> live = asks.stream().filter(w -> asked.contains(w.key())).toList();
    if (live.isEmpty()) {
      return; // forgotten meanwhile: their rounds were superseded
    }
    Target agent = live.get(0).agent();
    // The round's deadline leaves time for an agent pod to start; once an agent is ready, the
    // call gets what a probe pod would once started, so a silent agent costs no more than that.
    Instant deadline = Instant.now().plus(live.get(0).probeDeadline());
    for (Waiting w : live) {
      deadline = w.roundDeadline().isBefore(deadline) ? w.roundDeadline() : deadline;
    }
    List<BatchCodec.Entry> entries;
    try {
      entries =
          transport.probe(
              agent.uri(),
              live.stream().map(w -> w.member().settings().arguments()).toList(),
              deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      LOG.debugf("agent %s, %d endpoints: %s", agent.uri(), live.size(), e.getMessage());
      for (Waiting w : live) {
        end(w.key(), w.member(), unavailable(w.source(), agent, e.getMessage()));
      }
      return;
    }
    if (entries.size() != live.size()) {
      String why = entries.size() + " results for " + live.size() + " endpoints";
      for (Waiting w : live) {
        end(w.key(), w.member(), unavailable(w.source(), agent, why));
      }
      return;
    }
    for (int i = 0; i < live.size(); i++) {
      Waiting w = live.get(i);
      BatchCodec.Entry entry = entries.get(i);
      end(
          w.key(),
          w.member(),
          entry.report() != null
              ? SourceOutcome.ran(w.source().name(), agent.node(), entry.report())
              : SourceOutcome.failed(
                  w.source().name(),
                  agent.node(),
                  ProbeRunFailure.ProbeMisconfigured,
                  ProbePodReader.message(entry.error())));
    }
  }

  private static SourceOutcome unavailable(ProbeSource source, Target agent, String why) {
    return SourceOutcome.failed(
        source.name(),
        agent.node(),
        ProbeRunFailure.AgentUnavailable,
        "the probe agent of "
            + source.name()
            + " on "
            + agent.node()
            + " did not answer: "
            + ProbePodReader.message(String.valueOf(why)));
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
