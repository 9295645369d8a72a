package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile is linted, and what the chart and the probe pods rely on is checked: a base image
 * that users can replace but that defaults to a tagged one, a numeric non-root user, the command as
 * entrypoint, the operator at the path the chart runs. {@code make image} builds and runs the image
 * itself ({@code ImageIT} then checks what it built).
 */
class DockerfileTest {
  private static final Path DOCKER = ProjectPaths.root().resolve("src/main/docker");

  @Test
  void theDockerfileLintsClean() {
    Requirements.require(
        Requirements.onPath("dockerfilelint"),
        "dockerfilelint is not installed (npm i -g dockerfilelint)");
    var r =
        ProcessRunner.run(List.of("dockerfilelint", DOCKER.resolve("Dockerfile").toString()), 120);
    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output()).contains("Issues: None found");
  }

  @Test
  void theBaseIsABuildArgumentWhoseDefaultIsATaggedPublicJre() throws IOException {
    String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
    // .dockerfilelintrc turns off the linter's tag check, which cannot see into ${BASE_IMAGE}.
    assertThat(dockerfile)
        .contains("ARG BASE_IMAGE=eclipse-temurin:21-jre-noble\nFROM ${BASE_IMAGE}\n");
  }

  @Test
  void everyLauncherStartsTheJvmTheArchiveWasDumpedWith() throws IOException {
    for (String launcher : List.of("smtp-reach", "operator", "agent")) {
      assertThat(Files.readString(DOCKER.resolve(launcher)))
          .as(launcher)
          .contains("exec \"$bin/java\" ");
    }
    assertThat(Files.readString(DOCKER.resolve("dump-probe-archive")))
        .contains("ln -sfn \"$(readlink -f \"$java\")\" \"$bin/java\"");
  }

  @Test
  void theAgentRunsTheProbesCodeAsAResidentJvmAndTheImageHasIt() throws IOException {
    String agent = Files.readString(DOCKER.resolve("agent"));
    assertThat(agent)
        .contains("io.smtpreach.cli.Main agent \"$@\"", "probe.jsa", "-XX:-UsePerfData")
        .doesNotContain("TieredStopAtLevel");
    assertThat(Files.readString(DOCKER.resolve("Dockerfile"))).contains("src/main/docker/agent");
    assertThat(Files.readString(DOCKER.resolve("dump-probe-archive"))).contains("\"$bin/agent\"");
  }

  @Test
  void theImageRunsAsNonRootWithTheCommandAsEntrypointAndTheOperatorWhereTheChartLooks()
      throws IOException {
    String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
    assertThat(dockerfile).contains("USER 65532:65532");
    assertThat(dockerfile).contains("ENTRYPOINT [\"/opt/smtp-reach/bin/smtp-reach\"]");
    assertThat(Files.readString(DOCKER.resolve("smtp-reach"))).contains("io.smtpreach.cli.Main");
    assertThat(Files.readString(DOCKER.resolve("operator"))).contains("quarkus-run.jar");
    assertThat(
            Files.readString(
                ProjectPaths.root().resolve("helm/smtp-reach/templates/deployment.yaml")))
        .contains("command: [\"/opt/smtp-reach/bin/operator\"]");
  }
}
