package io.smtpreach.cluster;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One {@link LocalCluster} for the annotated test class: see {@link LocalClusterExtension}.
 * Parameters of type {@link LocalCluster}, and {@link TestNamespace} strings, are injected.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(LocalClusterExtension.class)
public @interface WithLocalCluster {
  /** Which Kubernetes the control plane runs. */
  KubernetesRelease value() default KubernetesRelease.NEWEST;
}
