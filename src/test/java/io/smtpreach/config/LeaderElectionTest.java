package io.smtpreach.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Lease replicas elect their leader by is the one the settings name. */
class LeaderElectionTest {
  @Test
  void theLeaseIsTheConfiguredOneInTheConfiguredNamespace() {
    var election =
        new LeaderElection()
            .leaderElectionConfiguration(
                config(
                    Map.of(
                        "leaseName",
                        "mail-a-smtp-reach-operator",
                        "leaseNamespace",
                        Optional.of("mail"))));
    assertThat(election.getLeaseName()).isEqualTo("mail-a-smtp-reach-operator");
    assertThat(election.getLeaseNamespace()).contains("mail");
  }

  /** An OperatorConfig answering only {@code values}' methods. */
  private static OperatorConfig config(Map<String, Object> values) {
    return (OperatorConfig)
        Proxy.newProxyInstance(
            OperatorConfig.class.getClassLoader(),
            new Class<?>[] {OperatorConfig.class},
            (proxy, method, args) -> {
              if (!values.containsKey(method.getName())) {
                throw new UnsupportedOperationException(method.getName());
              }
              return values.get(method.getName());
            });
  }
}
