package io.smtpreach.peers;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real Postfix on this machine's addresses (25 with STARTTLS offered, 587 and 2525 with STARTTLS
 * required and AUTH, 465 implicit TLS with AUTH), started once for the whole test run by
 * hack/postfix-peer.sh with a CA the script generates. Tests receive it as a parameter.
 */
public final class PostfixPeer implements BeforeAllCallback, ParameterResolver {
  /** Must be traversable by the postfix user, so not a 0700 temporary directory. */
  private static final Path DIR = Path.of("/tmp/smtp-reach-postfix");

  public static final String HOST = "127.0.0.1";
  public static final String USER = "probe@smtp.test";
  public static final String PASSWORD = "probe-secret";

  /** The running peer: its CA to trust, its credential. */
  public record Instance(Path dir) implements AutoCloseable {
    public Path caFile() {
      return dir.resolve("ca.pem");
    }

    @Override
    public void close() {
      ProcessRunner.run(
          List.of(ProjectPaths.hack("postfix-peer.sh").toString(), "stop", dir.toString()), 60);
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    instance(context);
  }

  private static Instance instance(ExtensionContext context) {
    Requirements.require(Requirements.isRoot(), "the Postfix peer needs root");
    Requirements.require(
        Requirements.onPath("postfix"), "Postfix is not installed (apt-get install postfix)");
    return context
        .getRoot()
        .getStore(ExtensionContext.Namespace.create(PostfixPeer.class))
        .getOrComputeIfAbsent(Instance.class, k -> start(), Instance.class);
  }

  private static Instance start() {
    ProcessRunner.Result r =
        ProcessRunner.run(
            List.of(ProjectPaths.hack("postfix-peer.sh").toString(), "start", DIR.toString()), 120);
    Requirements.require(
        r.exitCode() != 3, "Postfix peer prerequisites missing: " + r.output().strip());
    r.orThrow("hack/postfix-peer.sh start");
    return new Instance(DIR);
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    return p.getParameter().getType() == Instance.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    return instance(e);
  }
}
