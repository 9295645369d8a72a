package io.smtpreach.config;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * One Lease for all replicas of a deployment, in the operator's own namespace: only the holder
 * reconciles, so two replicas never run the same round twice. Its name is a setting so that two
 * deployments in one namespace (a fleet split by label selector) each elect their own leader.
 */
public class LeaderElection {
  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElectionConfiguration(OperatorConfig config) {
    // Unset: the client's namespace (in a pod, its own), as JOSDK infers it.
    return new LeaderElectionConfiguration(
        config.leaseName(), config.leaseNamespace().orElse(null));
  }
}
