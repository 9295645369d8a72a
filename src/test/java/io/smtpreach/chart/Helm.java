package io.smtpreach.chart;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import io.smtpreach.peers.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The chart and the Helm binary built from its Go module (hack/helm.sh), for chart tests. */
final class Helm {
  static final Path CHART = ProjectPaths.root().resolve("helm/smtp-reach");
  static final String NAMESPACE = "smtp-reach-system";

  private Helm() {}

  /** Skips (or fails under SMTP_REACH_REQUIRE_ALL=1) when Helm is not built and cannot be. */
  static Path binary() {
    var path = ProcessRunner.run(List.of(ProjectPaths.hack("helm.sh").toString(), "path"), 30);
    Path bin = Path.of(path.output().strip());
    Requirements.require(
        Files.isExecutable(bin) || Requirements.onPath("go"),
        "Helm is not built and there is no go to build it (hack/helm.sh build)");
    if (!Files.isExecutable(bin)) {
      ProcessRunner.run(List.of(ProjectPaths.hack("helm.sh").toString(), "build"), 1800)
          .orThrow("hack/helm.sh build");
    }
    return bin;
  }

  static ProcessRunner.Result run(String... args) {
    List<String> cmd = new ArrayList<>(List.of(binary().toString()));
    cmd.addAll(List.of(args));
    return ProcessRunner.run(cmd, 120);
  }

  /** {@code helm template smtp-reach CHART -n smtp-reach-system --set ...}; fails on error. */
  static String template(String... sets) {
    return templateRelease("smtp-reach", CHART, sets);
  }

  /** {@code helm template RELEASE CHART -n smtp-reach-system --set ...}; fails on error. */
  static String templateRelease(String release, Path chart, String... sets) {
    List<String> args =
        new ArrayList<>(List.of("template", release, chart.toString(), "--namespace", NAMESPACE));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    return run(args.toArray(String[]::new)).orThrow("helm template").output();
  }
}
