package io.smtpreach.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.WithDefault;
import io.smtpreach.config.OperatorConfig;
import io.smtpreach.probe.Durations;
import io.smtpreach.probe.ProbeOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The command and the operator probe with the same deadlines unless told otherwise: a port that
 * {@code smtp-reach probe} calls Reachable by hand is not NoGreeting in the endpoint's status only
 * because one of them waits a third as long.
 */
class ProbeDefaultsTest {
  private final ProbeCommand command = new ProbeCommand();

  @Test
  void theCommandsTimeoutIsTheOperatorsDefaultTimeout() throws Exception {
    assertThat(commandDefault("--timeout")).isEqualTo(operatorDefault("defaultTimeout"));
  }

  @Test
  void theCommandsConnectTimeoutIsTheOperatorsDefaultConnectTimeout() throws Exception {
    assertThat(commandDefault("--connect-timeout"))
        .isEqualTo(operatorDefault("defaultConnectTimeout"));
  }

  @Test
  void theCommandReadsAsLongAsAProbePodDoes() throws Exception {
    // A probe pod is given its endpoint's timeout as --read-timeout too (ProbeSettings).
    assertThat(commandDefault("--read-timeout")).isEqualTo(operatorDefault("defaultTimeout"));
  }

  @Test
  void theEnginesDefaultsAreTheCommands() {
    ProbeOptions engine = ProbeOptions.defaults();
    assertThat(engine.timeout()).isEqualTo(commandDefault("--timeout"));
    assertThat(engine.connectTimeout()).isEqualTo(commandDefault("--connect-timeout"));
    assertThat(engine.readTimeout()).isEqualTo(commandDefault("--read-timeout"));
  }

  private Duration commandDefault(String option) {
    return Durations.parse(command.spec.findOption(option).defaultValue());
  }

  private static Duration operatorDefault(String setting) throws NoSuchMethodException {
    return Durations.parse(
        OperatorConfig.class.getMethod(setting).getAnnotation(WithDefault.class).value());
  }
}
