package io.smtpreach.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * {@code smtp-reach --version}: the Maven project version, which the build writes into {@code
 * version.properties} beside this class (a filtered resource; the Quarkus application jar carries
 * no Implementation-Version), or {@code dev} when run from unfiltered sources.
 */
public final class VersionProvider implements IVersionProvider {
  private static final String RESOURCE = "version.properties";

  @Override
  public String[] getVersion() {
    return new String[] {"smtp-reach " + version()};
  }

  /** The project version, or {@code dev} when the resource is missing or was not filtered. */
  public static String version() {
    try (InputStream in = VersionProvider.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "dev";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "").trim();
      return v.isEmpty() || v.contains("${") ? "dev" : v;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }
}
