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
import io.smtpreach.probe.TranscriptListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code smtp-reach probe HOST}: probes ports of one host (or a domain's MX hosts) and explains.
 *
 * <p>Its picocli model is built by code, not read from annotations: a probe pod parses these
 * options every round, and reading annotations (reflection and a proxy class per annotation type)
 * cost it about 45 ms of its start-up (docs/benchmarks.md).
 */
public final class ProbeCommand implements Callable<Integer> {
  static final String ENV_USERNAME = "SMTP_REACH_AUTH_USERNAME";
  static final String ENV_PASSWORD = "SMTP_REACH_AUTH_PASSWORD";
  static final String ENV_USERNAME_LABEL = "SMTP_REACH_AUTH_USERNAME_LABEL";
  static final String ENV_CA_BUNDLE = "SMTP_REACH_CA_BUNDLE";

  final CommandSpec spec = CommandSpec.wrapWithoutInspection(this);

  ProbeCommand() {
    spec.name("probe").versionProvider(new VersionProvider());
    dataOnly(spec);
    spec.usageMessage()
        .sortOptions(false)
        .description(
            "Probes an SMTP host on each port and TLS mode and says exactly what works and what"
                + " does not.",
            "Default ports: 587 STARTTLS, 465 implicit TLS, 2525 STARTTLS, and 25 (STARTTLS if"
                + " offered, not required to be reachable).")
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(exitCodes())
        .footerHeading("%nEnvironment:%n")
        .footer(
            "  SMTP_REACH_AUTH_USERNAME, SMTP_REACH_AUTH_PASSWORD  credential for the AUTH check"
                + " (neither is ever printed)",
            "  SMTP_REACH_AUTH_USERNAME_LABEL  where that username comes from, shown instead of it"
                + " (as --auth-user-label)",
            "  SMTP_REACH_CA_BUNDLE  extra trusted CA certificates as PEM text (as --ca-file)");
    spec.addArgGroup(
        ArgGroupSpec.builder()
            .exclusive(true)
            .multiplicity("1")
            .addArg(
                PositionalParamSpec.builder()
                    .index("0")
                    .paramLabel("HOST")
                    .description("Host name or IP address to probe.")
                    .build())
            .addArg(
                option(
                    "--mx",
                    "DOMAIN",
                    "Probe port 25 on the MX hosts of this mail domain instead of one host."))
            .build());
    spec.addOption(
        OptionSpec.builder("-p", "--port")
            .paramLabel("PORT[:MODE[:EXPECT]]")
            .type(List.class)
            .auxiliaryTypes(String.class)
            .description(
                "Port to probe, repeatable; replaces the defaults. MODE: starttls, implicit,"
                    + " none, auto.",
                "EXPECT: reachable (default), blocked, any. E.g. -p 587:starttls -p"
                    + " 25:auto:blocked")
            .build());
    spec.addOption(
        OptionSpec.builder("-o", "--output")
            .paramLabel("FORMAT")
            .type(String.class)
            .defaultValue("table")
            .description(
                "table (default), json (the versioned JSON report), or nagios (a status line with"
                    + " perfdata, and the plugin API's exit codes).")
            .build());
    spec.addOption(flagOption("--json", "The same as --output json."));
    spec.addOption(
        option(
            "--cert-warning-days",
            "DAYS",
            "With --output nagios, WARNING when a certificate has fewer days left (default"
                + " ${DEFAULT-VALUE}).",
            String.valueOf(NagiosRenderer.DEFAULT_CERT_WARNING_DAYS)));
    spec.addOption(
        flagOption(
            "Print each SMTP dialogue on stderr as it happens (-> sent, <- received, ~> <~"
                + " inside TLS), the credential masked.",
            "-v",
            "--verbose"));
    spec.addOption(
        option(
            "--result-file",
            "FILE",
            "Also write the compact JSON report here, at most 4096 bytes."));
    spec.addOption(
        option(
            "--connect-timeout",
            "DURATION",
            "TCP connect deadline; a timeout means silently dropped (default ${DEFAULT-VALUE}).",
            ProbeOptions.DEFAULT_CONNECT_TIMEOUT));
    spec.addOption(
        option(
            "--read-timeout",
            "DURATION",
            "How long to wait for the server's next bytes (default ${DEFAULT-VALUE}).",
            ProbeOptions.DEFAULT_READ_TIMEOUT));
    spec.addOption(
        option(
            "--timeout",
            "DURATION",
            "Deadline for each port's whole dialogue, DNS included; it ends the dialogue"
                + " whatever the server does (default ${DEFAULT-VALUE}, as the operator's).",
            ProbeOptions.DEFAULT_TIMEOUT));
    spec.addOption(
        option(
            "--dns-timeout",
            "DURATION",
            "Deadline for each DNS query (default ${DEFAULT-VALUE}).",
            "5s"));
    spec.addOption(
        option(
            "--ehlo",
            "NAME",
            "Name to send with EHLO (default ${DEFAULT-VALUE}).",
            ProbeOptions.DEFAULT_EHLO_NAME));
    spec.addOption(
        option("--server-name", "NAME", "Name for SNI and certificate checks (default: HOST)."));
    spec.addOption(
        option(
            "--ca-file",
            "FILE",
            "Extra trusted CA certificates (PEM), on top of the system trust."));
    spec.addOption(flagOption("--insecure", "Do not verify certificates (facts are still shown)."));
    spec.addOption(
        option(
            "--min-tls",
            "VERSION",
            "Oldest TLS version to offer: 1.0, 1.1, 1.2, 1.3 (default ${DEFAULT-VALUE}).",
            "1.2"));
    spec.addOption(
        option(
            "--ip-family",
            "FAMILY",
            "any, v4, v6, or each (probe IPv4 and IPv6 separately) (default ${DEFAULT-VALUE}).",
            "any"));
    spec.addOption(
        option(
            "--dns-server",
            "ADDRESS[:PORT]",
            "Ask this DNS server instead of the system's resolver."));
    spec.addOption(
        OptionSpec.builder("--dnsbl")
            .paramLabel("ZONE")
            .type(List.class)
            .auxiliaryTypes(String.class)
            .description(
                "A DNS blocklist to look the egress address up in, repeatable (at most "
                    + ProbeOptions.MAX_DNSBL_ZONES
                    + "); asked only when the probe delivers directly (port 25, --mx). E.g."
                    + " --dnsbl zen.spamhaus.org (mind the list's terms and query limits).")
            .build());
    spec.addOption(
        option(
            "--auth-user",
            "USER",
            "Check AUTH with this user, shown in the results (default: $"
                + ENV_USERNAME
                + ", never shown)."));
    spec.addOption(
        option(
            "--auth-user-label",
            "TEXT",
            "Where the username comes from, shown instead of it (default: $"
                + ENV_USERNAME_LABEL
                + ")."));
    spec.addOption(
        option(
            "--auth-password-file",
            "FILE",
            "Read the AUTH password from this file (default: $" + ENV_PASSWORD + ")."));
    // As mixinStandardHelpOptions would, but that mixin is read from annotations.
    spec.addOption(
        OptionSpec.builder("-h", "--help")
            .usageHelp(true)
            .description("Show this help message and exit.")
            .build());
    spec.addOption(
        OptionSpec.builder("-V", "--version")
            .versionHelp(true)
            .description("Print version information and exit.")
            .build());
  }

  private static Map<String, String> exitCodes() {
    Map<String, String> codes = new LinkedHashMap<>(); // in code order
    codes.put("0", "every port as expected");
    codes.put("1", "some port not as expected");
    codes.put("2", "usage error");
    codes.put("3", "the probe could not run");
    codes.put(
        "0-3",
        "with --output nagios: OK, WARNING (a certificate expires soon), CRITICAL (some port not"
            + " as expected), UNKNOWN (the probe could not tell, could not run, or a usage error)");
    return codes;
  }

  /**
   * Arguments are data, whatever they look like: an endpoint's spec strings reach this command
   * line. No {@code @file} is read in their place (a probe pod's {@code /proc/self/environ} holds
   * its credential, and a usage error would quote it), and a value that looks like an option is the
   * value of the option before it ({@code --ehlo=--insecure} is an EHLO name).
   */
  static void dataOnly(CommandSpec spec) {
    spec.parser().expandAtFiles(false).allowOptionsAsOptionParameters(true);
  }

  private static OptionSpec option(String name, String label, String description) {
    return option(name, label, description, null);
  }

  private static OptionSpec option(
      String name, String label, String description, String defaultValue) {
    return OptionSpec.builder(name)
        .paramLabel(label)
        .type(String.class)
        .description(description)
        .defaultValue(defaultValue)
        .build();
  }

  private static OptionSpec flagOption(String name, String description) {
    return flagOption(description, name, new String[0]);
  }

  private static OptionSpec flagOption(String description, String name, String... names) {
    return OptionSpec.builder(name, names).type(boolean.class).description(description).build();
  }

  /** The value the last parse gave an option: its default, or null, when it was not given. */
  private <T> T value(String name) {
    return spec.findOption(name).getValue();
  }

  private boolean flag(String name) {
    return Boolean.TRUE.equals(value(name));
  }

  private Path path(String name) {
    String file = value(name);
    return file == null ? null : parse(() -> Path.of(file));
  }

  /** The environment; replaced in tests. */
  Map<String, String> environment = System.getenv();

  /** What {@code --output} asks for. */
  enum Output {
    TABLE,
    JSON,
    NAGIOS
  }

  /** The output the options ask for; a usage error when they do not say one. */
  Output output() {
    String given = value("--output");
    Output output =
        switch (given == null ? "table" : given.toLowerCase(Locale.ROOT)) {
          case "table" -> Output.TABLE;
          case "json" -> Output.JSON;
          case "nagios" -> Output.NAGIOS;
          default ->
              throw new ParameterException(
                  spec.commandLine(),
                  "unknown output '" + given + "' (expected table, json or nagios)");
        };
    if (flag("--json") && output != Output.JSON) {
      if (spec.findOption("--output").originalStringValues().isEmpty()) {
        return Output.JSON;
      }
      throw new ParameterException(
          spec.commandLine(), "--json is --output json: it cannot go with --output " + given);
    }
    return output;
  }

  /**
   * Whether this command's arguments ask for {@code --output nagios}, read leniently: a usage error
   * exits UNKNOWN then, even one that stopped the parse before it reached {@code --output}.
   */
  static boolean asksForNagios(String... args) {
    ProbeCommand lenient = new ProbeCommand();
    lenient.spec.parser().collectErrors(true);
    try {
      new picocli.CommandLine(lenient.spec).parseArgs(args);
    } catch (RuntimeException e) {
      // What was read before the error is all there is to go by.
    }
    String given = lenient.value("--output");
    return given != null && given.equalsIgnoreCase("nagios");
  }

  private int certWarningDays() {
    String text = value("--cert-warning-days");
    try {
      int days = Integer.parseInt(text.strip());
      if (days >= 0) {
        return days;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw new ParameterException(
        spec.commandLine(), "--cert-warning-days: '" + text + "' is not a number of days");
  }

  @Override
  public Integer call() throws IOException {
    Output output = output();
    int certWarningDays = certWarningDays();
    ProbeReport report = report();
    Path resultFile = path("--result-file");
    if (resultFile != null) {
      Files.writeString(
          resultFile,
          ReportCodec.encode(report, ReportCodec.TERMINATION_MESSAGE_LIMIT),
          StandardCharsets.UTF_8);
    }
    PrintWriter out = spec.commandLine().getOut();
    switch (output) {
      case JSON -> out.println(ReportCodec.encode(report));
      case NAGIOS -> {
        NagiosRenderer nagios = new NagiosRenderer(Instant.now(), certWarningDays);
        out.print(nagios.render(report));
        out.flush();
        return nagios.status(report).exitCode();
      }
      default -> out.print(new TableRenderer().render(report));
    }
    out.flush();
    return report.allAsExpected() ? ExitCodes.AS_EXPECTED : ExitCodes.NOT_AS_EXPECTED;
  }

  /** Probes as the options say; a usage error is a ParameterException. */
  ProbeReport report() {
    Plan plan = plan();
    TranscriptListener transcript =
        flag("--verbose")
            ? new TranscriptPrinter(spec.commandLine().getErr(), plan.mx())
            : TranscriptListener.NONE;
    try {
      return plan.run(transcript);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** The parsed options, checked and detached from this command: a batch probes them at once. */
  Plan plan() {
    ProbeOptions options = options();
    List<String> given = value("--port");
    List<String> ports = given == null ? List.of() : given;
    List<ProbeTarget> targets = targets(ports);
    String mxDomain = value("--mx");
    if (mxDomain == null) {
      return new Plan(options, spec.positionalParameters().get(0).getValue(), false, targets);
    }
    // MX mode probes port 25 only; a -p 25:MODE:EXPECT sets how.
    if (ports.isEmpty()) {
      return new Plan(options, mxDomain, true, List.of());
    }
    if (targets.size() != 1 || targets.get(0).port() != 25) {
      throw new ParameterException(
          spec.commandLine(), "with --mx only port 25 can be given (-p 25:MODE:EXPECT)");
    }
    return new Plan(options, mxDomain, true, targets);
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
      return run(TranscriptListener.NONE);
    }

    /**
     * As {@link #run()}, telling {@code transcript} every line of every dialogue.
     *
     * @throws IllegalArgumentException if the CA bundle cannot be read
     */
    ProbeReport run(TranscriptListener transcript) {
      try (SmtpProber prober = new SmtpProber(options, transcript)) {
        if (!mx) {
          return prober.probe(subject, targets);
        }
        return targets.isEmpty()
            ? prober.probeMx(subject)
            : prober.probeMx(subject, targets.get(0));
      }
    }
  }

  private List<ProbeTarget> targets(List<String> ports) {
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

  private ProbeOptions options() {
    Path caFile = readableFile("--ca-file", "CA");
    Path passwordFile = readableFile("--auth-password-file", "password");
    ProbeOptions.Builder b =
        ProbeOptions.builder()
            .connectTimeout(duration("--connect-timeout"))
            .readTimeout(duration("--read-timeout"))
            .timeout(duration("--timeout"))
            .dnsTimeout(duration("--dns-timeout"))
            .insecure(flag("--insecure"))
            .serverName(value("--server-name"))
            .caBundle(caFile)
            .caBundlePem(environment.get(ENV_CA_BUNDLE));
    String ehloName = value("--ehlo");
    parse(() -> b.ehloName(ehloName));
    String minTls = value("--min-tls");
    b.minTlsVersion(parse(() -> TlsVersion.parse(minTls)));
    String ipFamily = value("--ip-family");
    b.ipFamily(parse(() -> IpFamily.parse(ipFamily)));
    String dnsServer = value("--dns-server");
    if (dnsServer != null) {
      b.dnsServer(parse(() -> dnsServer(dnsServer)));
    }
    List<String> dnsbl = value("--dnsbl");
    if (dnsbl != null) {
      parse(() -> b.dnsblZones(dnsbl));
    }
    String authUser = value("--auth-user");
    String user = authUser != null ? authUser : environment.get(ENV_USERNAME);
    if (user != null && !user.isEmpty()) {
      // A username from the environment is, in a probe pod, the value of a Secret's key that the
      // endpoint's author chose: results name where it came from, never the value.
      String label = value("--auth-user-label");
      if (label == null || label.isBlank()) {
        label = environment.get(ENV_USERNAME_LABEL);
      }
      if ((label == null || label.isBlank()) && authUser == null) {
        label = "$" + ENV_USERNAME;
      }
      String password =
          passwordFile != null ? readPassword(passwordFile) : environment.get(ENV_PASSWORD);
      if (password == null) {
        throw new ParameterException(
            spec.commandLine(),
            "AUTH user given but no password: set $" + ENV_PASSWORD + " or --auth-password-file");
      }
      b.credentials(
          label == null || label.isBlank()
              ? new Credentials(user, password)
              : new Credentials(user, password, label));
    }
    return b.build();
  }

  /**
   * The file an option names, checked before anything is probed: whichever option names it, a file
   * that cannot be read is a usage error, said in one shape ({@code cannot read CA file F: why}).
   */
  private Path readableFile(String option, String what) {
    Path file = path(option);
    if (file == null) {
      return null;
    }
    String why =
        Files.isDirectory(file)
            ? "is a directory"
            : !Files.exists(file)
                ? "no such file"
                : !Files.isReadable(file) ? "permission denied" : null;
    if (why != null) {
      throw unreadable(what, file, why);
    }
    return file;
  }

  private String readPassword(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (CharacterCodingException e) {
      throw unreadable("password", file, "not UTF-8 text");
    } catch (IOException e) {
      throw unreadable("password", file, String.valueOf(e.getMessage()));
    }
  }

  private ParameterException unreadable(String what, Path file, String why) {
    return new ParameterException(
        spec.commandLine(), "cannot read " + what + " file " + file + ": " + why);
  }

  private Duration duration(String option) {
    String text = value(option);
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
