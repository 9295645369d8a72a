package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.smtpreach.config.OperatorConfig;
import java.util.List;

/**
 * What every pod that probes runs under, probe pods and agents alike: a fixed non-root uid, the
 * runtime's default seccomp profile, a read-only root, no capabilities, no privilege escalation;
 * and the image pull secrets the operator is configured with.
 */
final class PodRestrictions {
  /** The image's user: any non-root id works, the image's files are world-readable. */
  static final long UID = 65532;

  private PodRestrictions() {}

  /** The pod's security context; {@code fsGroup} too when it mounts a Secret its user reads. */
  static PodSecurityContext pod(boolean fsGroup) {
    return new PodSecurityContextBuilder()
        .withRunAsNonRoot(true)
        .withRunAsUser(UID)
        .withRunAsGroup(UID)
        .withFsGroup(fsGroup ? UID : null)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .build();
  }

  static SecurityContext container() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withPrivileged(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .build();
  }

  /** The configured pull secrets; none named (null) without any, as the API server would keep. */
  static List<LocalObjectReference> pullSecrets(OperatorConfig config) {
    List<LocalObjectReference> refs =
        config.probeImagePullSecrets().orElse(List.of()).stream()
            .map(String::strip)
            .filter(name -> !name.isEmpty())
            .map(LocalObjectReference::new)
            .toList();
    return refs.isEmpty() ? null : refs;
  }
}
