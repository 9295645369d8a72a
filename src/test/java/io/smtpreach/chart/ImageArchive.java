package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The image archive {@code make image} saves (target/image/smtp-reach-VERSION.tar). */
public final class ImageArchive {
  static final Path SCRIPT = ProjectPaths.hack("image.sh");

  private ImageArchive() {}

  /** The archive; skips (or fails under SMTP_REACH_REQUIRE_ALL=1) when it was not built. */
  public static Path require() {
    Path archive = path();
    Requirements.require(
        Files.isRegularFile(archive), "no " + archive + " (make image builds it; make test does)");
    return archive;
  }

  static Path path() {
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
