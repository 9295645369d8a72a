package io.smtpreach.cli;

import io.smtpreach.peers.FaultServer;
import io.smtpreach.peers.FaultServer.SmtpScript;
import io.smtpreach.peers.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The probe run that the package build records with {@code -XX:DumpLoadedClassList} to make the
 * probe's class-data sharing archive: what a probe pod runs ({@code smtp-reach batch}) for two
 * endpoints, a STARTTLS and an implicit-TLS port of loopback servers, with a name to resolve and a
 * CA bundle, so that the archive covers the DNS, TLS, certificate and result paths a probe pod
 * takes. Exits non-zero if the probe did not reach both ports, so a broken training run fails the
 * build instead of shipping a thin archive.
 */
public final class ProbeTrainingRun {
  private ProbeTrainingRun() {}

  public static void main(String[] args) throws Exception {
    TestCertificates ca = TestCertificates.newCa("smtp-reach training CA");
    TestCertificates.Issued cert = ca.issue("localhost", List.of("localhost"), 30);
    SmtpScript submission =
        SmtpScript.plain()
            .capabilities("PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN")
            .startTls("220 2.0.0 ready", cert.serverContext());
    Path dir = Files.createTempDirectory("smtp-reach-training");
    Path caFile = dir.resolve("ca.pem");
    Path result = dir.resolve("result.json");
    ca.writeCaPem(caFile);
    try (FaultServer starttls = FaultServer.start(FaultServer.smtp(submission));
        FaultServer implicit =
            FaultServer.start(
                FaultServer.implicitTls(
                    cert.serverContext(),
                    null,
                    null,
                    SmtpScript.plain().capabilities("PIPELINING", "AUTH PLAIN LOGIN")))) {
      int code =
          Main.run(
              "batch",
              "--result-file",
              result.toString(),
              "--",
              "localhost",
              "-p",
              starttls.port() + ":starttls",
              "--ca-file",
              caFile.toString(),
              BatchCommand.SEPARATOR,
              "localhost",
              "-p",
              implicit.port() + ":implicit",
              "--ca-file",
              caFile.toString());
      if (code != ExitCodes.AS_EXPECTED) {
        System.err.println("training probe: exit " + code + ": " + Files.readString(result));
        System.exit(1);
      }
    }
    System.exit(0);
  }
}
