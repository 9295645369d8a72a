package io.smtpreach.agent;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the probes an engine prepared, by their arguments: a resident agent is asked for the same
 * endpoints every round, and reading arguments through the command's model costs a tenth of a
 * probe's CPU. A prepared probe is immutable and prepares a fresh prober on each run, so one serves
 * every request that names it. At most {@code capacity} are kept, the least recently asked going
 * first, so that hostile or ever-changing arguments cannot grow the agent.
 */
public final class PreparedProbeCache implements ProbeEngine {
  private final ProbeEngine engine;
  private final Map<List<String>, PreparedProbe> prepared;

  public PreparedProbeCache(ProbeEngine engine, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.engine = engine;
    this.prepared =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<List<String>, PreparedProbe> eldest) {
            return size() > capacity;
          }
        };
  }

  @Override
  public PreparedProbe prepare(List<String> args) {
    List<String> key = List.copyOf(args);
    synchronized (prepared) {
      PreparedProbe probe = prepared.get(key);
      if (probe != null) {
        return probe;
      }
    }
    // Outside the lock: preparing takes a while, and two requests preparing the same arguments at
    // once get equal probes.
    PreparedProbe probe = engine.prepare(key);
    synchronized (prepared) {
      prepared.put(key, probe);
    }
    return probe;
  }
}
