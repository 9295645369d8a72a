package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import io.smtpreach.api.SmtpEndpoint;
import io.smtpreach.api.SmtpEndpointSpec;
import io.smtpreach.metrics.EndpointMetrics;
import java.lang.reflect.Proxy;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A reconcile that keeps failing (a long API outage) must not leave its endpoint forgotten. */
class ReconcileErrorTest {
  private final KubernetesClient client =
      new KubernetesClientBuilder()
          .withConfig(new ConfigBuilder().withMasterUrl("https://127.0.0.1:9").build())
          .build();
  private final SmtpEndpointReconciler reconciler =
      new SmtpEndpointReconciler(TestOperatorConfig.DEFAULTS, new EndpointMetrics(), client);
  private final SmtpEndpoint endpoint = ProbePodFactoryTest.endpoint(new SmtpEndpointSpec());

  @AfterEach
  void close() {
    client.close();
  }

  @Test
  void beforeTheLastRetryJosdkRetriesAsUsual() {
    var control = reconciler.updateErrorStatus(endpoint, retrying(false), new RuntimeException());

    assertThat(control.isDefaultErrorProcessing()).isTrue();
  }

  @Test
  void afterTheLastRetryTheEndpointIsReconciledAgainLater() {
    ErrorStatusUpdateControl<SmtpEndpoint> control =
        reconciler.updateErrorStatus(endpoint, retrying(true), new RuntimeException("503"));

    assertThat(control.isDefaultErrorProcessing()).isFalse();
    assertThat(control.isNoRetry()).isTrue();
    assertThat(control.getResource()).as("no status patch: the API is what failed").isEmpty();
    assertThat(control.getScheduleDelay())
        .hasValue(SmtpEndpointReconciler.AFTER_RETRIES.toMillis());
  }

  @SuppressWarnings("unchecked")
  private static Context<SmtpEndpoint> retrying(boolean last) {
    RetryInfo info =
        new RetryInfo() {
          @Override
          public int getAttemptCount() {
            return last ? 5 : 1;
          }

          @Override
          public boolean isLastAttempt() {
            return last;
          }
        };
    return (Context<SmtpEndpoint>)
        Proxy.newProxyInstance(
            Context.class.getClassLoader(),
            new Class<?>[] {Context.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getRetryInfo")) {
                return Optional.of(info);
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
