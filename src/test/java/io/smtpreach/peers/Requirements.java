package io.smtpreach.peers;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Skips a test whose peer (root, Postfix, network namespaces) is missing, with the reason; under
 * {@code SMTP_REACH_REQUIRE_ALL=1}, which CI sets, the same situation fails the test instead, so
 * nothing silently stops running.
 */
public final class Requirements {
  public static final String REQUIRE_ALL_ENV = "SMTP_REACH_REQUIRE_ALL";

  private Requirements() {}

  public static boolean requireAll() {
    String v = System.getenv(REQUIRE_ALL_ENV);
    return v != null && (v.equals("1") || v.equalsIgnoreCase("true"));
  }

  /** Skips (or, under {@code SMTP_REACH_REQUIRE_ALL=1}, fails) unless {@code met}. */
  public static void require(boolean met, String what) {
    if (met) {
      return;
    }
    if (requireAll()) {
      fail(what + " (" + REQUIRE_ALL_ENV + "=1 turns this skip into a failure)");
    }
    Assumptions.abort("skipped: " + what);
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  public static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin", command));
  }
}
