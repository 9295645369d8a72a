package io.smtpreach.cluster;

import io.smtpreach.peers.ProjectPaths;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Starts a {@link LocalCluster} before a test class (in {@code target/local-cluster/<class>}) and
 * stops it after; when a test failed, every component's log and every pod's output are kept under
 * {@code target/cluster-logs/<class>/}. Skips the class (or fails it under {@code
 * SMTP_REACH_REQUIRE_ALL=1}) when a cluster cannot run here.
 */
public final class LocalClusterExtension
    implements BeforeAllCallback, AfterAllCallback, ParameterResolver, TestWatcher {
  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(LocalClusterExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    WithLocalCluster with = context.getRequiredTestClass().getAnnotation(WithLocalCluster.class);
    KubernetesRelease release = with == null ? KubernetesRelease.NEWEST : with.value();
    LocalCluster.requireSupport(release);
    String name = context.getRequiredTestClass().getSimpleName();
    Path dir = ProjectPaths.root().resolve("target/local-cluster").resolve(name);
    context.getStore(STORE).put(LocalCluster.class, LocalCluster.start(dir, release));
  }

  @Override
  public void afterAll(ExtensionContext context) {
    LocalCluster cluster = context.getStore(STORE).remove(LocalCluster.class, LocalCluster.class);
    if (cluster == null) {
      return;
    }
    boolean failed =
        Boolean.TRUE.equals(context.getStore(STORE).get("failed", Boolean.class))
            || context.getExecutionException().isPresent();
    String name = context.getRequiredTestClass().getSimpleName();
    cluster.close(failed ? ProjectPaths.root().resolve("target/cluster-logs").resolve(name) : null);
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    context.getParent().orElseThrow().getStore(STORE).put("failed", true);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == LocalCluster.class
        || (type == String.class && parameter.isAnnotated(TestNamespace.class));
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    LocalCluster cluster = cluster(context);
    return parameter.getParameter().getType() == LocalCluster.class
        ? cluster
        : cluster.createNamespace();
  }

  private static LocalCluster cluster(ExtensionContext context) {
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      LocalCluster cluster = c.getStore(STORE).get(LocalCluster.class, LocalCluster.class);
      if (cluster != null) {
        return cluster;
      }
    }
    throw new IllegalStateException("no LocalCluster started for " + context.getDisplayName());
  }
}
