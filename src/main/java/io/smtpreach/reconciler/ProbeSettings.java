package io.smtpreach.reconciler;

import io.smtpreach.api.PortSpec;
import io.smtpreach.api.ProbeMode;
import io.smtpreach.api.ProbeSpec;
import io.smtpreach.api.ProbeVia;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.cli.BatchCommand;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.probe.Durations;
import io.smtpreach.probe.Expectation;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An endpoint's spec resolved against the operator's defaults, in the probe engine's terms: the
 * targets, the address family (EACH keeps each family's verdict apart), the deadlines, and the
 * {@code smtp-reach probe} arguments it is probed with (a probe pod passes them to {@code
 * smtp-reach batch}, which writes the result file).
 */
public record ProbeSettings(
    List<ProbeTarget> targets,
    IpFamily ipFamily,
    Duration interval,
    Duration timeout,
    Duration connectTimeout,
    List<String> arguments,
    ProbeVia via) {

  /** Where the probe writes its result: the kubelet's termination-message file. */
  public static final String RESULT_FILE = "/dev/termination-log";

  /** Resolves a spec; an IllegalArgumentException says what is wrong with it. */
  public static ProbeSettings of(SmtpEndpoint endpoint, OperatorConfig config) {
    SmtpEndpointSpec spec = endpoint.getSpec();
    if (spec == null || (spec.host == null) == (spec.mxDomain == null)) {
      throw new IllegalArgumentException("set exactly one of spec.host and spec.mxDomain");
    }
    Duration interval = duration(spec.interval, config.defaultInterval(), "interval");
    Duration timeout = duration(spec.timeout, config.defaultTimeout(), "timeout");
    Duration connect =
        duration(spec.connectTimeout, config.defaultConnectTimeout(), "connectTimeout");
    if (interval.compareTo(Duration.ofSeconds(30)) < 0) {
      throw new IllegalArgumentException("interval must be at least 30s");
    }
    if (timeout.compareTo(interval) >= 0) {
      throw new IllegalArgumentException("timeout must be shorter than interval");
    }
    if (connect.compareTo(timeout) > 0) {
      connect = timeout;
    }
    List<ProbeTarget> targets = targets(spec);

    // Every spec string is an option's attached value (--ehlo=VALUE) and the host comes after the
    // end of options: whatever a string looks like (--insecure, -p 1, @file, +), it stays data.
    List<String> args = new ArrayList<>();
    if (spec.mxDomain != null) {
      args.add(option("--mx", spec.mxDomain));
    }
    for (ProbeTarget t : targets) {
      args.add(option("--port", t.toString()));
    }
    args.add(option("--timeout", Durations.format(timeout)));
    args.add(option("--connect-timeout", Durations.format(connect)));
    args.add(option("--read-timeout", Durations.format(timeout)));
    if (spec.ehloName != null) {
      args.add(option("--ehlo", spec.ehloName));
    }
    if (spec.ipFamily != null) {
      args.add(option("--ip-family", ipFamily(spec.ipFamily)));
    }
    if (spec.tls != null) {
      if (spec.tls.serverName != null) {
        args.add(option("--server-name", spec.tls.serverName));
      }
      if (spec.tls.minVersion != null) {
        args.add(option("--min-tls", spec.tls.minVersion));
      }
      if (Boolean.TRUE.equals(spec.tls.insecureSkipVerify)) {
        args.add("--insecure");
      }
    }
    // Blocklists are asked about the egress of endpoints that deliver directly only.
    boolean direct = targets.stream().anyMatch(t -> t.port() == 25);
    if (direct) {
      for (String zone : config.dnsblZones().orElse(List.of())) {
        args.add(option("--dnsbl", zone));
      }
    }
    if (spec.host != null) {
      if (spec.host.equals(BatchCommand.SEPARATOR)) {
        // It would split this endpoint's arguments in two in a shared probe pod.
        throw new IllegalArgumentException("spec.host: '" + spec.host + "' is not a host name");
      }
      args.addAll(List.of("--", spec.host));
    }
    IpFamily family = spec.ipFamily == null ? IpFamily.ANY : family(spec.ipFamily);
    return new ProbeSettings(
        targets, family, interval, timeout, connect, args, via(spec, config.agents().enabled()));
  }

  /**
   * Agent, unless the endpoint needs what only a probe pod in its namespace gives: a credential or
   * CA bundle from its Secrets and ConfigMaps, or its own labels, annotations, scheduling or
   * resources (so that NetworkPolicies and egress gateways see the workload), or the operator runs
   * no agents. The API server rejects mode Agent with any of those.
   */
  static ProbeVia via(SmtpEndpointSpec spec, boolean agentsEnabled) {
    ProbeSpec probe = spec.probe;
    ProbeMode mode = probe == null || probe.mode == null ? ProbeMode.Auto : probe.mode;
    return switch (mode) {
      case Pod -> ProbeVia.Pod;
      case Agent -> ProbeVia.Agent;
      case Auto -> !agentsEnabled || needsPod(spec) ? ProbeVia.Pod : ProbeVia.Agent;
    };
  }

  private static boolean needsPod(SmtpEndpointSpec spec) {
    ProbeSpec probe = spec.probe;
    return spec.auth != null
        || (spec.tls != null && spec.tls.caBundle != null)
        || (probe != null
            && (notEmpty(probe.labels)
                || notEmpty(probe.annotations)
                || notEmpty(probe.nodeSelector)
                || (probe.tolerations != null && !probe.tolerations.isEmpty())
                || probe.resources != null));
  }

  private static boolean notEmpty(java.util.Map<String, String> map) {
    return map != null && !map.isEmpty();
  }

  private static String option(String name, String value) {
    return name + "=" + value;
  }

  /** The ports in the engine's terms; the SMTP guides' four when the spec lists none. */
  static List<ProbeTarget> targets(SmtpEndpointSpec spec) {
    if (spec.mxDomain != null) {
      PortSpec p = spec.ports == null || spec.ports.isEmpty() ? null : spec.ports.get(0);
      return List.of(
          new ProbeTarget(
              25,
              p == null || p.tls == null ? TlsMode.AUTO : mode(p.tls),
              p == null || p.expect == null ? Expectation.REACHABLE : expect(p.expect)));
    }
    if (spec.ports == null || spec.ports.isEmpty()) {
      return ProbeTarget.DEFAULTS;
    }
    List<ProbeTarget> out = new ArrayList<>();
    for (PortSpec p : spec.ports) {
      if (p.port == null) {
        throw new IllegalArgumentException("every entry of spec.ports needs a port");
      }
      out.add(
          new ProbeTarget(
              p.port,
              p.tls == null ? ProbeTarget.usualMode(p.port) : mode(p.tls),
              p.expect == null ? usualExpectation(p.port) : expect(p.expect)));
    }
    return out;
  }

  /** As on the command line: 25 is often blocked by clouds, so by default nothing is expected. */
  private static Expectation usualExpectation(int port) {
    return port == 25 ? Expectation.ANY : Expectation.REACHABLE;
  }

  /** The longest a probe pod may take once started: every port runs concurrently. */
  public Duration probeDeadline(Duration startAllowance) {
    // The ports (DNS and MX look-ups included) end by the timeout, and the egress look-ups after
    // them (PTR, blocklists) take at most the timeout again; the JVM's start is the allowance.
    return timeout.multipliedBy(2).plus(startAllowance);
  }

  private static TlsMode mode(io.smtpreach.api.TlsMode mode) {
    return switch (mode) {
      case None -> TlsMode.NONE;
      case StartTLS -> TlsMode.STARTTLS;
      case Implicit -> TlsMode.IMPLICIT;
      case Auto -> TlsMode.AUTO;
    };
  }

  private static Expectation expect(io.smtpreach.api.Expectation expect) {
    return switch (expect) {
      case Reachable -> Expectation.REACHABLE;
      case Blocked -> Expectation.BLOCKED;
      case Any -> Expectation.ANY;
    };
  }

  private static IpFamily family(io.smtpreach.api.IpFamily family) {
    return switch (family) {
      case Any -> IpFamily.ANY;
      case IPv4 -> IpFamily.V4;
      case IPv6 -> IpFamily.V6;
      case Each -> IpFamily.EACH;
    };
  }

  private static String ipFamily(io.smtpreach.api.IpFamily family) {
    return switch (family) {
      case Any -> "any";
      case IPv4 -> "v4";
      case IPv6 -> "v6";
      case Each -> "each";
    };
  }

  private static Duration duration(String text, Duration fallback, String field) {
    if (text == null) {
      return fallback;
    }
    try {
      return Durations.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("spec." + field + ": '" + text + "' is not a duration");
    }
  }
}
