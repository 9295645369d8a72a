package io.smtpreach.reconciler;

import io.smtpreach.config.OperatorConfig;
import java.time.Duration;
import java.util.Optional;

/** The operator's documented defaults, without booting Quarkus. */
public class TestOperatorConfig implements OperatorConfig {
  public static final OperatorConfig DEFAULTS = new TestOperatorConfig(true);

  /** The defaults with agents off: {@code probe.mode: Auto} means a probe pod. */
  public static final OperatorConfig PODS_ONLY = new TestOperatorConfig(false);

  private final boolean agents;

  public TestOperatorConfig() {
    this(true);
  }

  private TestOperatorConfig(boolean agents) {
    this.agents = agents;
  }

  @Override
  public Agents agents() {
    boolean enabled = agents;
    return new Agents() {
      @Override
      public boolean enabled() {
        return enabled;
      }

      @Override
      public int port() {
        return 8440;
      }

      @Override
      public int maxConcurrent() {
        return 16;
      }

      @Override
      public int maxQueued() {
        return 64;
      }

      @Override
      public int maxCalls() {
        return 32;
      }

      @Override
      public Optional<String> owner() {
        return Optional.empty();
      }

      @Override
      public String cpuRequest() {
        return "50m";
      }

      @Override
      public String memoryRequest() {
        return "192Mi";
      }

      @Override
      public String memoryLimit() {
        return "256Mi";
      }
    };
  }

  @Override
  public Duration defaultInterval() {
    return Duration.ofMinutes(5);
  }

  @Override
  public Duration defaultTimeout() {
    return Duration.ofSeconds(10);
  }

  @Override
  public Duration defaultConnectTimeout() {
    return Duration.ofSeconds(5);
  }

  @Override
  public String probeImage() {
    return "ghcr.io/smtp-reach/smtp-reach:test";
  }

  @Override
  public Optional<java.util.List<String>> probeImagePullSecrets() {
    return Optional.empty();
  }

  @Override
  public Optional<java.util.List<String>> dnsblZones() {
    return Optional.empty();
  }

  @Override
  public ProbeResources probeResources() {
    return new ProbeResources() {
      @Override
      public String cpuRequest() {
        return "50m";
      }

      @Override
      public String memoryRequest() {
        return "80Mi";
      }

      @Override
      public String memoryLimit() {
        return "128Mi";
      }
    };
  }

  @Override
  public int maxConcurrentProbePods() {
    return 200;
  }

  @Override
  public int probeBatchSize() {
    return 12;
  }

  @Override
  public Duration probeBatchWindow() {
    return Duration.ofSeconds(1);
  }

  @Override
  public Duration podStartTimeout() {
    return Duration.ofMinutes(2);
  }

  @Override
  public Duration probeStartAllowance() {
    return Duration.ofSeconds(30);
  }

  @Override
  public String leaseName() {
    return "smtp-reach-operator";
  }

  @Override
  public Optional<String> leaseNamespace() {
    return Optional.empty();
  }

  @Override
  public Optional<String> podSigningKey() {
    return Optional.of("test-signing-key-0123456789");
  }

  @Override
  public ProbePolicy probePolicy() {
    return new ProbePolicy() {
      @Override
      public String maxCpu() {
        return "500m";
      }

      @Override
      public String maxMemory() {
        return "512Mi";
      }

      @Override
      public java.util.List<String> allowedTolerationKeys() {
        return java.util.List.of("*");
      }

      @Override
      public java.util.List<String> allowedNodeSelectorKeys() {
        return java.util.List.of("*");
      }

      @Override
      public Optional<java.util.List<String>> reservedLabelKeys() {
        return Optional.empty();
      }
    };
  }
}
