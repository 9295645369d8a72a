package io.smtpreach.config;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * One Lease for all replicas, in the operator's own namespace: only the holder reconciles, so two
 * replicas never run the same round twice.
 */
public class LeaderElection {
  public static final String LEASE_NAME = "smtp-reach-operator";

  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElectionConfiguration(OperatorConfig config) {
    // Unset: the client's namespace (in a pod, its own), as JOSDK infers it.
    return new LeaderElectionConfiguration(LEASE_NAME, config.leaseNamespace().orElse(null));
  }
}
