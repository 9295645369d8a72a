package io.smtpreach.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe's launchers run from the packaged build with its class-data sharing archive. {@code
 * -Xshare:on} makes the JVM refuse to start when the archive does not map (a class path spelled
 * differently from the dump's, a missing file), where the launchers' default would silently run
 * without it, and slower.
 */
class ProbeLauncherIT {
  private static final Path APP = ProjectPaths.root().resolve("target/quarkus-app");

  @Test
  void theBuildsLauncherMapsTheArchiveThePackageBuildDumped() {
    var r = withSharingRequired(ProjectPaths.root().resolve("bin/smtp-reach").toString());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("io.smtpreach.cli.Main source: shared objects file");
  }

  /** The image's layout, assembled without Docker; its build step runs as the Dockerfile does. */
  @Test
  void theImagesArchiveStepDumpsAnArchiveItsLauncherMaps(@TempDir Path root) throws IOException {
    Path probe = Files.createDirectories(root.resolve("probe"));
    Path app = Files.createDirectories(root.resolve("app"));
    Path bin = Files.createDirectories(root.resolve("bin"));
    try (Stream<Path> jars = Files.list(APP.resolve("app"))) {
      for (Path jar : jars.toList()) {
        Files.copy(jar, app.resolve(jar.getFileName()));
      }
    }
    for (String f : List.of("picocli.jar", "dnsjava.jar", "slf4j-api.jar", "classes.lst")) {
      Files.copy(APP.resolve("probe").resolve(f), probe.resolve(f));
    }
    for (String f : List.of("smtp-reach", "agent", "dump-probe-archive")) {
      Files.copy(
          ProjectPaths.root().resolve("src/main/docker").resolve(f),
          bin.resolve(f),
          StandardCopyOption.COPY_ATTRIBUTES);
    }

    var dump = ProcessRunner.run(List.of(bin.resolve("dump-probe-archive").toString()), 300);
    assertThat(dump.exitCode()).as(dump.output()).isZero();
    assertThat(dump.output()).contains("smtp-reach ");

    var r = withSharingRequired(bin.resolve("smtp-reach").toString());
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("io.smtpreach.cli.Main source: shared objects file");
  }

  private static ProcessRunner.Result withSharingRequired(String launcher) {
    List<String> command = new ArrayList<>();
    command.add("env");
    command.add("JAVA_TOOL_OPTIONS=-Xshare:on -Xlog:class+load=info");
    command.add(launcher);
    command.add("--version");
    return ProcessRunner.run(command, 120);
  }
}
