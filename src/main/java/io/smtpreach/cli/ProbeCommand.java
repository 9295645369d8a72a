package io.smtpreach.cli;

import io.smtpreach.probe.Credentials;
import io.smtpreach.probe.Durations;
import io.smtpreach.probe.IpFamily;
import io.smtpreach.probe.ProbeOptions;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeTarget;
import io.smtpreach.probe.ReportCodec;
import io.smtpreach.probe.SmtpProber;
import io.smtpreach.probe.TlsVersion;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code smtp-reach probe HOST}: probes ports of one host (or a domain's MX hosts) and explains.
 */
@Command(
    name = "probe",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    description = {
      "Probes an SMTP host on each port and TLS mode and says exactly what works and what does not.",
      "Default ports: 587 STARTTLS, 465 implicit TLS, 2525 STARTTLS, and 25 (STARTTLS if offered,"
          + " not required to be reachable)."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every port as expected",
      "1:some port not as expected",
      "2:usage error",
      "3:the probe could not run"
    },
    footerHeading = "%nEnvironment:%n",
    footer = {
      "  SMTP_REACH_AUTH_USERNAME, SMTP_REACH_AUTH_PASSWORD  credential for the AUTH check"
          + " (the password is never printed)",
      "  SMTP_REACH_CA_BUNDLE  extra trusted CA certificates as PEM text (as --ca-file)"
    })
public final class ProbeCommand implements Callable<Integer> {
  static final String ENV_USERNAME = "SMTP_REACH_AUTH_USERNAME";
  static final String ENV_PASSWORD = "SMTP_REACH_AUTH_PASSWORD";
  static final String ENV_CA_BUNDLE = "SMTP_REACH_CA_BUNDLE";

  @Spec CommandSpec spec;

  @ArgGroup(multiplicity = "1")
  Subject subject;

  static final class Subject {
    @Parameters(index = "0", paramLabel = "HOST", description = "Host name or IP address to probe.")
    String host;

    @Option(
        names = "--mx",
        paramLabel = "DOMAIN",
        description = "Probe port 25 on the MX hosts of this mail domain instead of one host.")
    String mxDomain;
  }

  @Option(
      names = {"-p", "--port"},
      paramLabel = "PORT[:MODE[:EXPECT]]",
      description = {
        "Port to probe, repeatable; replaces the defaults. MODE: starttls, implicit, none, auto.",
        "EXPECT: reachable (default), blocked, any. E.g. -p 587:starttls -p 25:auto:blocked"
      })
  List<String> ports = new ArrayList<>();

  @Option(names = "--json", description = "Print the versioned JSON report instead of a table.")
  boolean json;

  @Option(
      names = "--result-file",
      paramLabel = "FILE",
      description = "Also write the compact JSON report here, at most 4096 bytes.")
  Path resultFile;

  @Option(
      names = "--connect-timeout",
      paramLabel = "DURATION",
      defaultValue = "5s",
      description =
          "TCP connect deadline; a timeout means silently dropped (default ${DEFAULT-VALUE}).")
  String connectTimeout;

  @Option(
      names = "--read-timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      description = "Deadline for each server reply (default ${DEFAULT-VALUE}).")
  String readTimeout;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      description = "Deadline for each port's whole dialogue (default ${DEFAULT-VALUE}).")
  String timeout;

  @Option(
      names = "--dns-timeout",
      paramLabel = "DURATION",
      defaultValue = "5s",
      description = "Deadline for each DNS query (default ${DEFAULT-VALUE}).")
  String dnsTimeout;

  @Option(
      names = "--ehlo",
      paramLabel = "NAME",
      defaultValue = ProbeOptions.DEFAULT_EHLO_NAME,
      description = "Name to send with EHLO (default ${DEFAULT-VALUE}).")
  String ehloName;

  @Option(
      names = "--server-name",
      paramLabel = "NAME",
      description = "Name for SNI and certificate checks (default: HOST).")
  String serverName;

  @Option(
      names = "--ca-file",
      paramLabel = "FILE",
      description = "Extra trusted CA certificates (PEM), on top of the system trust.")
  Path caFile;

  @Option(names = "--insecure", description = "Do not verify certificates (facts are still shown).")
  boolean insecure;

  @Option(
      names = "--min-tls",
      paramLabel = "VERSION",
      defaultValue = "1.2",
      description = "Oldest TLS version to offer: 1.0, 1.1, 1.2, 1.3 (default ${DEFAULT-VALUE}).")
  String minTls;

  @Option(
      names = "--ip-family",
      paramLabel = "FAMILY",
      defaultValue = "any",
      description =
          "any, v4, v6, or each (probe IPv4 and IPv6 separately) (default ${DEFAULT-VALUE}).")
  String ipFamily;

  @Option(
      names = "--dns-server",
      paramLabel = "ADDRESS[:PORT]",
      description = "Ask this DNS server instead of the system's resolver.")
  String dnsServer;

  @Option(
      names = "--auth-user",
      paramLabel = "USER",
      description = "Check AUTH with this user (default: $" + ENV_USERNAME + ").")
  String authUser;

  @Option(
      names = "--auth-password-file",
      paramLabel = "FILE",
      description = "Read the AUTH password from this file (default: $" + ENV_PASSWORD + ").")
  Path authPasswordFile;

  /** The environment; replaced in tests. */
  Map<String, String> environment = System.getenv();

  @Override
  public Integer call() throws IOException {
    ProbeReport report = report();
    if (resultFile != null) {
      Files.writeString(
          resultFile,
          ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT),
          StandardCharsets.UTF_8);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(ReportCodec.encode(report));
    } else {
      out.print(new TableRenderer().render(report));
    }
    out.flush();
    return report.allAsExpected() ? ExitCodes.AS_EXPECTED : ExitCodes.NOT_AS_EXPECTED;
  }

  /** Probes as the options say; a usage error is a ParameterException. */
  ProbeReport report() throws IOException {
    Plan plan = plan();
    try {
      return plan.run();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /**
   * The parsed options, checked and detached from this command: a batch parses every endpoint with
   * one command (building picocli's model costs more than parsing) and probes them at once.
   */
  Plan plan() throws IOException {
    List<ProbeTarget> targets = targets();
    if (subject.mxDomain == null) {
      return new Plan(options(), subject.host, false, targets);
    }
    // MX mode probes port 25 only; a -p 25:MODE:EXPECT sets how.
    if (ports.isEmpty()) {
      return new Plan(options(), subject.mxDomain, true, List.of());
    }
    if (targets.size() != 1 || targets.get(0).port() != 25) {
      throw new ParameterException(
          spec.commandLine(), "with --mx only port 25 can be given (-p 25:MODE:EXPECT)");
    }
    return new Plan(options(), subject.mxDomain, true, targets);
  }

  /**
   * One probe to run: a host's targets, or a mail domain's MX hosts on port 25 (as the only target,
   * or the default when there is none).
   */
  record Plan(ProbeOptions options, String subject, boolean mx, List<ProbeTarget> targets) {
    /**
     * @throws IllegalArgumentException if the CA bundle cannot be read
     */
    ProbeReport run() {
      try (SmtpProber prober = new SmtpProber(options)) {
        if (!mx) {
          return prober.probe(subject, targets);
        }
        return targets.isEmpty()
            ? prober.probeMx(subject)
            : prober.probeMx(subject, targets.get(0));
      }
    }
  }

  private List<ProbeTarget> targets() {
    if (ports.isEmpty()) {
      return ProbeTarget.DEFAULTS;
    }
    List<ProbeTarget> out = new ArrayList<>();
    for (String p : ports) {
      ProbeTarget t = parse(() -> ProbeTarget.parse(p));
      if (out.stream().anyMatch(o -> o.port() == t.port() && o.mode() == t.mode())) {
        throw new ParameterException(spec.commandLine(), "port " + p + " is given twice");
      }
      out.add(t);
    }
    if (out.size() > 32) {
      throw new ParameterException(spec.commandLine(), "at most 32 ports per probe");
    }
    return out;
  }

  private ProbeOptions options() throws IOException {
    ProbeOptions.Builder b =
        ProbeOptions.builder()
            .connectTimeout(duration(connectTimeout))
            .readTimeout(duration(readTimeout))
            .timeout(duration(timeout))
            .dnsTimeout(duration(dnsTimeout))
            .insecure(insecure)
            .serverName(serverName)
            .caBundle(caFile)
            .caBundlePem(environment.get(ENV_CA_BUNDLE));
    parse(() -> b.ehloName(ehloName));
    b.minTlsVersion(parse(() -> TlsVersion.parse(minTls)));
    b.ipFamily(parse(() -> IpFamily.parse(ipFamily)));
    if (dnsServer != null) {
      b.dnsServer(parse(() -> dnsServer(dnsServer)));
    }
    if (caFile != null && !Files.isReadable(caFile)) {
      throw new ParameterException(spec.commandLine(), "cannot read CA file " + caFile);
    }
    String user = authUser != null ? authUser : environment.get(ENV_USERNAME);
    if (user != null && !user.isEmpty()) {
      String password =
          authPasswordFile != null
              ? Files.readString(authPasswordFile, StandardCharsets.UTF_8).strip()
              : environment.get(ENV_PASSWORD);
      if (password == null) {
        throw new ParameterException(
            spec.commandLine(),
            "AUTH user given but no password: set $" + ENV_PASSWORD + " or --auth-password-file");
      }
      b.credentials(new Credentials(user, password));
    }
    return b.build();
  }

  private Duration duration(String text) {
    return parse(() -> Durations.parse(text));
  }

  private static InetSocketAddress dnsServer(String text) {
    int colon = text.lastIndexOf(':');
    boolean hasPort = colon > 0 && text.indexOf(':') == colon; // one colon: host:port (not IPv6)
    String host = hasPort ? text.substring(0, colon) : text;
    int port = hasPort ? Integer.parseInt(text.substring(colon + 1)) : 53;
    return new InetSocketAddress(host.replace("[", "").replace("]", ""), port);
  }

  private interface Parse<T> {
    T get();
  }

  /** Turns a value's IllegalArgumentException into a usage error with the same message. */
  private <T> T parse(Parse<T> parse) {
    try {
      return parse.get();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
