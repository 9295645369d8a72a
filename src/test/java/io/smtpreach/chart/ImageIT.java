package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The image {@code make image} saved (target/image/smtp-reach-VERSION.tar), run as probe pods and
 * the chart run it: {@code hack/image.sh check} loads the archive into that script's own engine and
 * runs, with no network, a read-only root, uid 65532 and no capabilities, {@code --version}, the
 * probe mapping its class-data archive, a probe of a closed loopback port, and the operator
 * starting and stopping without a cluster. The same checks end every {@code make image}.
 *
 * <p>It runs only where {@code make image} has been run (as root: the engine is Debian's dockerd)
 * and skips otherwise, whatever SMTP_REACH_REQUIRE_ALL says: CI does not build the image.
 */
class ImageIT {
  private static final Path SCRIPT = ProjectPaths.root().resolve("hack/image.sh");

  @Test
  void theSavedImageRunsAsProbePodsAndTheChartRunIt() {
    Path archive = archive();
    Assumptions.assumeTrue(
        Files.isRegularFile(archive), "skipped: no " + archive + " (make image builds it)");
    Assumptions.assumeTrue(Requirements.isRoot(), "skipped: the image's engine needs root");

    var r = ProcessRunner.run(List.of(SCRIPT.toString(), "check"), 300);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("ok: smtp-reach --version says")
        .contains("ok: the probe maps its class-data archive")
        .contains("ok: a probe of a closed port")
        .contains("ok: the operator starts");
  }

  private static Path archive() {
    var paths = ProcessRunner.run(List.of(SCRIPT.toString(), "paths"), 30);
    assertThat(paths.exitCode()).as(paths.output()).isZero();
    return paths
        .output()
        .lines()
        .filter(l -> l.startsWith("archive "))
        .map(l -> Path.of(l.substring("archive ".length())))
        .findFirst()
        .orElseThrow();
  }
}
