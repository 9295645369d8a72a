package io.smtpreach.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code smtp-reach --version} says which build it is: the version in pom.xml, as Maven has it. */
class VersionProviderTest {
  @Test
  void versionIsThePomsProjectVersion() throws IOException {
    assertThat(VersionProvider.version()).isEqualTo(pomVersion());
  }

  @Test
  void theCommandPrintsIt() throws IOException {
    var out = new StringWriter();
    var cmd = new CommandLine(new SmtpReachCommand());
    cmd.setOut(new PrintWriter(out));
    assertThat(cmd.execute("--version")).isZero();
    assertThat(out.toString().strip()).isEqualTo("smtp-reach " + pomVersion());
  }

  /** The project's own version: the first {@code <version>} after its artifactId. */
  private static String pomVersion() throws IOException {
    String pom = Files.readString(ProjectPaths.root().resolve("pom.xml"));
    var m =
        Pattern.compile("<artifactId>smtp-reach</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(pom);
    assertThat(m.find()).as("pom.xml's project version").isTrue();
    return m.group(1);
  }
}
