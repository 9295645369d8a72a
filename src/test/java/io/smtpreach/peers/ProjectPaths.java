package io.smtpreach.peers;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the project's scripts and the running JVM live, for tests that start processes. */
public final class ProjectPaths {
  private ProjectPaths() {}

  /** The project root: the nearest directory upwards holding pom.xml. */
  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("pom.xml"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no pom.xml above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  public static Path hack(String script) {
    return root().resolve("hack").resolve(script);
  }

  /** The java binary running these tests. */
  public static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The test class path (surefire passes it in a property when it uses a manifest-only jar). */
  public static String classPath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }
}
