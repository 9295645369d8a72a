package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.Requirements;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The image {@code make image} saved (target/image/smtp-reach-VERSION.tar), run as probe pods and
 * the chart run it: {@code hack/image.sh check} loads the archive into that script's own engine and
 * runs, with no network, a read-only root, uid 65532 and no capabilities, {@code --version}, the
 * probe mapping its class-data archive, a probe of a closed loopback port, and the operator
 * starting and stopping without a cluster. The same checks end every {@code make image}.
 *
 * <p>It needs {@code make image}'s archive ({@code make test} builds it) and root (the engine is
 * Debian's dockerd).
 */
class ImageIT {
  @Test
  void theSavedImageRunsAsProbePodsAndTheChartRunIt() {
    ImageArchive.require();
    Requirements.require(Requirements.isRoot(), "the image's engine needs root");

    var r = ProcessRunner.run(List.of(ImageArchive.SCRIPT.toString(), "check"), 300);

    assertThat(r.exitCode()).as(r.output()).isZero();
    assertThat(r.output())
        .contains("ok: smtp-reach --version says")
        .contains("ok: the probe maps its class-data archive")
        .contains("ok: a probe of a closed port")
        .contains("ok: the operator starts");
  }
}
