package io.smtpreach.cli;

import static io.smtpreach.peers.FaultServer.SmtpScript.plain;
import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.FakeDnsServer;
import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.TestCertificates;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.ReportCodec;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command as a user runs it: a separate JVM, its output and its exit code. */
class ProbeCommandTest {
  @TempDir Path tmp;

  record Run(int exitCode, String stdout, String stderr) {}

  static Run smtpReach(Map<String, String> env, String... args) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(ProjectPaths.java(), "-cp", ProjectPaths.classPath(), "io.smtpreach.cli.Main"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    Path out = Files.createTempFile("smtp-reach-out", ".txt");
    Path err = Files.createTempFile("smtp-reach-err", ".txt");
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("command finished").isTrue();
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aRefusedPortExitsOneAndTheTableSaysWhy() throws Exception {
    int port = closedPort();
    Run run = smtpReach(Map.of(), "probe", "127.0.0.1", "-p", port + ":starttls");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.NOT_AS_EXPECTED);
    assertThat(run.stdout())
        .contains("PORT", "STATE", "REASON")
        .contains(port + "  StartTLS")
        .contains("Refused !", "ConnectionRefused")
        .contains("Recommended: none");
  }

  @Test
  void aPortExpectedBlockedThatIsClosedIsAsExpected() throws Exception {
    Run run =
        smtpReach(
            Map.of(), "probe", "127.0.0.1", "-p", closedPort() + ":starttls:blocked", "--json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.AS_EXPECTED);
    ProbeReport report = ReportCodec.decode(run.stdout().strip());
    assertThat(report.results().get(0).reason()).isEqualTo(Reason.CONNECTION_REFUSED);
  }

  @Test
  void usageErrorsExitTwoWithAClearMessage() throws Exception {
    Run badPort = smtpReach(Map.of(), "probe", "127.0.0.1", "-p", "99999");
    assertThat(badPort.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(badPort.stderr()).contains("port 99999 is outside 1-65535");

    Run noHost = smtpReach(Map.of(), "probe");
    assertThat(noHost.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(noHost.stderr()).contains("HOST");

    Run badTimeout = smtpReach(Map.of(), "probe", "127.0.0.1", "--connect-timeout", "soon");
    assertThat(badTimeout.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(badTimeout.stderr()).contains("'soon' is not a duration");

    Run missingCa = smtpReach(Map.of(), "probe", "127.0.0.1", "--ca-file", "/nonexistent/ca.pem");
    assertThat(missingCa.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(missingCa.stderr()).contains("cannot read CA file");
  }

  @Test
  void theTableAndTheJsonSayWhichAddressTheServerSawAndItsPtr() throws Exception {
    try (FakeDnsServer dns = FakeDnsServer.start();
        FaultServer server =
            FaultServer.start(
                FaultServer.smtp(
                    FaultServer.SmtpScript.plain()
                        .ehloLine("fault.test Hello smtp-reach.invalid [203.0.113.5]")))) {
      dns.ptr("203.0.113.5", "out.example.test").a("out.example.test", "203.0.113.5");
      String[] args = {
        "probe",
        "127.0.0.1",
        "-p",
        server.port() + ":none",
        "--dns-server",
        "127.0.0.1:" + dns.address().getPort()
      };
      Run table = smtpReach(Map.of(), args);
      assertThat(table.stdout())
          .contains(
              "Egress: 203.0.113.5 (seen by the server; local 127.0.0.1), PTR out.example.test"
                  + " (confirmed)");
      List<String> json = new ArrayList<>(List.of(args));
      json.add("--json");
      Run j = smtpReach(Map.of(), json.toArray(String[]::new));
      assertThat(j.stdout())
          .contains(
              "\"egress\":{\"address\":\"203.0.113.5\",\"seenBy\":\"Server\",\"local\":\"127.0.0.1\","
                  + "\"ptr\":\"out.example.test\",\"ptrConfirmed\":true}");
    }
  }

  @Test
  void aBlocklistThatIsNoDnsNameIsAUsageError() throws Exception {
    Run bad = smtpReach(Map.of(), "probe", "127.0.0.1", "--dnsbl", "zen.spamhaus.org;rm -rf");
    assertThat(bad.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(bad.stderr()).contains("is not a DNS name");
  }

  @Test
  void anUnreadablePasswordFileIsAUsageErrorAsAnUnreadableCaFileIs() throws Exception {
    Path directory = Files.createDirectory(tmp.resolve("a-directory"));
    String port = closedPort() + ":starttls";
    for (String file : List.of("/nonexistent/secret", directory.toString())) {
      Run password =
          smtpReach(
              Map.of(),
              "probe",
              "127.0.0.1",
              "-p",
              port,
              "--auth-user",
              "alice",
              "--auth-password-file",
              file);
      Run ca = smtpReach(Map.of(), "probe", "127.0.0.1", "-p", port, "--ca-file", file);

      assertThat(password.exitCode()).as("password file " + file).isEqualTo(ExitCodes.USAGE);
      assertThat(ca.exitCode()).as("CA file " + file).isEqualTo(ExitCodes.USAGE);
      String why = file.startsWith("/nonexistent") ? "no such file" : "is a directory";
      assertThat(password.stderr())
          .isEqualTo(usageError("cannot read password file " + file + ": " + why));
      assertThat(ca.stderr()).isEqualTo(usageError("cannot read CA file " + file + ": " + why));
      assertThat(password.stdout()).isEmpty();
      assertThat(ca.stdout()).isEmpty();
    }
  }

  /** What the command prints on stderr for a usage error. */
  private static String usageError(String message) {
    return "smtp-reach: " + message + "\nTry 'smtp-reach probe --help'.\n";
  }

  @Test
  void anAtFileIsAnArgumentNeverAFilesContent() throws Exception {
    Path environ = tmp.resolve("environ");
    Files.writeString(environ, "SMTP_REACH_AUTH_PASSWORD=hunter2-from-the-file --insecure\n");

    Run run = smtpReach(Map.of(), "probe", "127.0.0.1", "@" + environ);

    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.stderr()).contains("@" + environ).doesNotContain("hunter2-from-the-file");
    assertThat(run.stdout()).doesNotContain("hunter2-from-the-file");
  }

  @Test
  void theResultFileIsBoundedAndDecodes() throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("probe", "127.0.0.1", "--result-file", tmp.resolve("result.json").toString()));
    java.util.Set<Integer> ports = new java.util.LinkedHashSet<>();
    while (ports.size() < 32) { // the kernel may hand out the same free port twice
      ports.add(closedPort());
    }
    for (int port : ports) {
      args.add("-p");
      args.add(port + ":starttls");
    }
    Run run = smtpReach(Map.of(), args.toArray(String[]::new));
    assertThat(run.exitCode()).isEqualTo(ExitCodes.NOT_AS_EXPECTED);
    byte[] file = Files.readAllBytes(tmp.resolve("result.json"));
    assertThat(file.length).isLessThanOrEqualTo(ReportCodec.TERMINATION_MESSAGE_LIMIT);
    ProbeReport report = ReportCodec.decode(new String(file, StandardCharsets.UTF_8));
    assertThat(report.results().size() + report.truncated()).isEqualTo(32);
  }

  @Test
  void theCredentialFromTheEnvironmentIsNeverPrinted() throws Exception {
    String user = "apikey-value-4b1d";
    String password = "s3cret-never-printed";
    try (FaultServer server = authServer()) {
      Map<String, String> env =
          Map.of(ProbeCommand.ENV_USERNAME, user, ProbeCommand.ENV_PASSWORD, password);
      String[] common = authProbe(server);
      Run table = smtpReach(env, common);
      Run json =
          smtpReach(
              env, concat(common, "--json", "--result-file", tmp.resolve("r.json").toString()));

      assertThat(table.stdout())
          .contains("AuthFailed")
          .contains("AUTH with the username from $SMTP_REACH_AUTH_USERNAME rejected");
      assertThat(json.stdout()).contains("AuthFailed");
      for (String text :
          List.of(
              table.stdout(),
              table.stderr(),
              json.stdout(),
              json.stderr(),
              Files.readString(tmp.resolve("r.json")))) {
        for (String secret : List.of(user, password)) {
          assertThat(text)
              .doesNotContain(secret)
              .doesNotContain(java.util.Base64.getEncoder().encodeToString(secret.getBytes()));
        }
      }
    }
  }

  @Test
  void aUsernameIsShownOnlyWhenTypedAndOtherwiseNamedByItsLabel() throws Exception {
    Files.writeString(tmp.resolve("password"), "s3cret\n");
    try (FaultServer server = authServer()) {
      Run labelled =
          smtpReach(
              Map.of(
                  ProbeCommand.ENV_USERNAME, "apikey-value-4b1d",
                  ProbeCommand.ENV_PASSWORD, "s3cret",
                  ProbeCommand.ENV_USERNAME_LABEL, "key apikey of Secret creds"),
              concat(authProbe(server), "--json"));
      Run typed =
          smtpReach(
              Map.of(),
              concat(
                  authProbe(server),
                  "--json",
                  "--auth-user",
                  "alice",
                  "--auth-password-file",
                  tmp.resolve("password").toString()));

      assertThat(labelled.stdout())
          .contains("AUTH with the username from key apikey of Secret creds rejected")
          .doesNotContain("apikey-value-4b1d");
      assertThat(typed.stdout()).contains("AUTH as alice rejected");
    }
  }

  @Test
  void verboseShowsTheDialogueOnStderrWithTheCredentialMaskedAndStdoutStaysJson() throws Exception {
    String user = "apikey-value-4b1d";
    String password = "s3cret-never-printed";
    Map<String, String> env =
        Map.of(ProbeCommand.ENV_USERNAME, user, ProbeCommand.ENV_PASSWORD, password);
    try (FaultServer server = authServer()) {
      Run verbose = smtpReach(env, concat(authProbe(server), "-v", "--json"));
      Run quiet = smtpReach(env, concat(authProbe(server), "--json"));

      ProbeReport report = ReportCodec.decode(verbose.stdout().strip());
      assertThat(report.results().get(0).reason()).isEqualTo(Reason.AUTH_FAILED);
      String port = server.port() + "/StartTLS ";
      assertThat(verbose.stderr())
          .contains(
              port + "=== connecting to 127.0.0.1 port " + server.port() + "\n",
              port + "<-  220 fault.test ESMTP\n",
              port + " -> EHLO smtp-reach.invalid\n",
              port + "<-  250 AUTH PLAIN\n",
              port + " -> STARTTLS\n",
              port + "<-  220 go ahead\n",
              port + "=== TLS started: TLSv1.3, ",
              port + " ~> EHLO smtp-reach.invalid\n",
              port + " ~> AUTH PLAIN [redacted]\n",
              port + "<~  535 5.7.8 authentication failed\n",
              port + " ~> QUIT\n");
      for (String secret : List.of(user, password)) {
        assertThat(verbose.stderr() + verbose.stdout())
            .doesNotContain(secret)
            .doesNotContain(java.util.Base64.getEncoder().encodeToString(secret.getBytes()));
      }
      assertThat(verbose.stderr())
          .doesNotContain(
              java.util.Base64.getEncoder()
                  .encodeToString(("\0" + user + "\0" + password).getBytes()));
      assertThat(quiet.stderr()).isEmpty();
    }
  }

  @Test
  void nagiosOutputIsOneStatusLineWithPerfdataAndThePluginApisExitCode() throws Exception {
    TestCertificates ca = TestCertificates.newCa("nagios CA");
    ca.writeCaPem(tmp.resolve("ca.pem"));
    int closed = closedPort();
    try (FaultServer healthy = startTlsServer(ca, 30);
        FaultServer expiring = startTlsServer(ca, 5)) {
      Run ok = smtpReach(Map.of(), nagiosProbe(healthy.port()));
      Run warning = smtpReach(Map.of(), nagiosProbe(expiring.port()));
      Run critical = smtpReach(Map.of(), nagiosProbe(closed));

      assertThat(ok.exitCode()).as(ok.stdout()).isEqualTo(0);
      String port = healthy.port() + "_starttls";
      assertThat(ok.stdout().lines().findFirst().orElseThrow())
          .matches(
              "SMTP-REACH OK - 127\\.0\\.0\\.1: "
                  + healthy.port()
                  + "/StartTLS Reachable \\(Ok\\) \\| "
                  + port
                  + "_connect=\\d+\\.\\d{6}s;;;0 "
                  + port
                  + "_greeting=\\d+\\.\\d{6}s;;;0 "
                  + port
                  + "_tls=\\d+\\.\\d{6}s;;;0 "
                  + port
                  + "_total=\\d+\\.\\d{6}s;;;0 "
                  + port
                  + "_cert_days=29;14:");
      assertThat(ok.stdout().lines().skip(1))
          .containsExactly(
              healthy.port()
                  + "/StartTLS: STARTTLS, TLSv1.3, cert fault.test by nagios CA, 29d left");

      assertThat(warning.exitCode()).as(warning.stdout()).isEqualTo(1);
      assertThat(warning.stdout())
          .startsWith(
              "SMTP-REACH WARNING - 127.0.0.1: "
                  + expiring.port()
                  + "/StartTLS Reachable (Ok, certificate expires in 4d) | ");

      assertThat(critical.exitCode()).as(critical.stdout()).isEqualTo(2);
      assertThat(critical.stdout())
          .startsWith(
              "SMTP-REACH CRITICAL - 127.0.0.1: "
                  + closed
                  + "/StartTLS Refused (ConnectionRefused, expected Reachable) | "
                  + closed
                  + "_starttls_connect=U;;;0 ")
          .contains(
              "\n"
                  + closed
                  + "/StartTLS: connection to 127.0.0.1 port "
                  + closed
                  + " refused (TCP RST or ICMP port unreachable)\n");
      for (Run run : List.of(ok, warning, critical)) {
        assertThat(run.stderr()).isEmpty();
      }
    }
  }

  @Test
  void underNagiosOutputEveryUsageErrorIsUnknownAndOtherwiseStillTwo() throws Exception {
    String port = closedPort() + ":starttls";
    List<List<String>> usageErrors =
        List.of(
            List.of("probe"),
            List.of("probe", "127.0.0.1", "-p", "99999"),
            List.of("probe", "127.0.0.1", "--no-such-option"),
            List.of("probe", "127.0.0.1", "--timeout", "1s", "--timeout", "2s"),
            List.of("probe", "127.0.0.1", "--mx", "example.com"),
            List.of("probe", "127.0.0.1", "-p", port, "--ca-file", "/nonexistent/ca.pem"),
            List.of(
                "probe",
                "127.0.0.1",
                "-p",
                port,
                "--auth-user",
                "alice",
                "--auth-password-file",
                "/nonexistent/secret"),
            List.of("probe", "127.0.0.1", "-p", port, "--cert-warning-days", "soon"),
            List.of("probe", "127.0.0.1", "-p", port, "--json"));
    for (List<String> args : usageErrors) {
      // Where --output comes must not matter: picocli may stop before it reaches it.
      List<String> nagiosFirst = new ArrayList<>(args);
      nagiosFirst.addAll(1, List.of("--output", "nagios"));
      List<String> nagiosLast = new ArrayList<>(args);
      nagiosLast.add("-onagios");
      for (List<String> nagios : List.of(nagiosFirst, nagiosLast)) {
        if (nagios.equals(nagiosLast) && args.contains("--json")) {
          continue;
        }
        Run run = smtpReach(Map.of(), nagios.toArray(String[]::new));
        assertThat(run.exitCode()).as(String.join(" ", nagios)).isEqualTo(3);
        assertThat(run.stdout())
            .as(String.join(" ", nagios))
            .startsWith("SMTP-REACH UNKNOWN - usage: ");
        assertThat(run.stdout().lines().count()).isEqualTo(1);
        assertThat(run.stdout().chars().filter(c -> c == '|').count()).isZero();
      }
      if (!args.contains("--json")) {
        Run plain = smtpReach(Map.of(), args.toArray(String[]::new));
        assertThat(plain.exitCode()).as(String.join(" ", args)).isEqualTo(ExitCodes.USAGE);
        assertThat(plain.stdout()).isEmpty();
      }
    }

    Run unwritable =
        smtpReach(
            Map.of(),
            "probe",
            "127.0.0.1",
            "-p",
            port,
            "--output",
            "nagios",
            "--result-file",
            "/nonexistent/result.json");
    assertThat(unwritable.exitCode()).isEqualTo(3);
    assertThat(unwritable.stdout())
        .startsWith("SMTP-REACH UNKNOWN - the probe could not run: /nonexistent/result.json");
  }

  private String[] nagiosProbe(int port) {
    return new String[] {
      "probe",
      "127.0.0.1",
      "-p",
      port + ":starttls",
      "--server-name",
      "fault.test",
      "--ca-file",
      tmp.resolve("ca.pem").toString(),
      "--output",
      "nagios"
    };
  }

  private static FaultServer startTlsServer(TestCertificates ca, int days) throws Exception {
    var tls = ca.issue("fault.test", List.of("fault.test"), days).serverContext();
    return FaultServer.start(
        FaultServer.smtp(plain().capabilities("STARTTLS").startTls("220 go ahead", tls)));
  }

  /** A server that offers AUTH PLAIN after STARTTLS with a certificate from tmp/ca.pem. */
  private FaultServer authServer() throws Exception {
    TestCertificates ca = TestCertificates.newCa("cli CA");
    ca.writeCaPem(tmp.resolve("ca.pem"));
    var tls = ca.issue("fault.test", List.of("fault.test"), 30).serverContext();
    return FaultServer.start(
        FaultServer.smtp(
            plain().capabilities("STARTTLS", "AUTH PLAIN").startTls("220 go ahead", tls)));
  }

  private String[] authProbe(FaultServer server) {
    return new String[] {
      "probe",
      "127.0.0.1",
      "-p",
      server.port() + ":starttls",
      "--server-name",
      "fault.test",
      "--ca-file",
      tmp.resolve("ca.pem").toString()
    };
  }

  @Test
  void helpListsTheExitCodes() throws Exception {
    Run run = smtpReach(Map.of(), "probe", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout()).contains("Exit codes:", "some port not as expected", "--result-file");
  }

  private static String[] concat(String[] a, String... b) {
    List<String> all = new ArrayList<>(List.of(a));
    all.addAll(List.of(b));
    return all.toArray(String[]::new);
  }
}
