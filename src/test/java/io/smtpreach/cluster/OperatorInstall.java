package io.smtpreach.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Installs what the operator needs into a cluster the way a user would, from the project's own
 * files: the committed CRDs ({@code crds/}) and the RBAC the build generates ({@code
 * target/kubernetes/kubernetes.yml}: ServiceAccount, ClusterRole, Role and their bindings), in
 * namespace {@link #NAMESPACE}. Nothing more: the operator then runs with exactly that.
 */
public final class OperatorInstall {
  public static final String NAMESPACE = "smtp-reach-system";
  public static final String SERVICE_ACCOUNT = "smtp-reach";

  private static final Set<String> RBAC_KINDS =
      Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");

  private OperatorInstall() {}

  /** Installs CRDs and RBAC; returns a kubeconfig that authenticates as the operator's account. */
  public static Path install(LocalCluster cluster) {
    KubernetesClient k = cluster.client();
    applyCrds(k);
    if (k.namespaces().withName(NAMESPACE).get() == null) {
      k.namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
          .create();
    }
    for (HasMetadata r : generatedRbac(k)) {
      if (!(r.getKind().startsWith("Cluster"))) {
        r.getMetadata().setNamespace(NAMESPACE);
      }
      if (r instanceof ClusterRoleBinding b) {
        subjectsIn(b.getSubjects());
      } else if (r instanceof RoleBinding b) {
        subjectsIn(b.getSubjects());
      }
      k.resource(r).forceConflicts().serverSideApply();
    }
    return cluster.kubeconfigFor(NAMESPACE, SERVICE_ACCOUNT);
  }

  /** Applies every CRD of {@code crds/} and waits until the API server serves it. */
  public static void applyCrds(KubernetesClient k) {
    applyCrds(k, ProjectPaths.root().resolve("crds"), "*.yml");
  }

  /** Applies every CRD in {@code dir}'s files matching {@code glob}; waits until each is served. */
  public static void applyCrds(KubernetesClient k, Path dir, String glob) {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, glob)) {
      for (Path f : files) {
        try (InputStream in = Files.newInputStream(f)) {
          for (HasMetadata crd : k.load(in).items()) {
            k.resource(crd).forceConflicts().serverSideApply();
            k.apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName(crd.getMetadata().getName())
                .waitUntilCondition(
                    c ->
                        c.getStatus() != null
                            && c.getStatus().getConditions() != null // none yet, just created
                            && c.getStatus().getConditions().stream()
                                .anyMatch(
                                    x ->
                                        "Established".equals(x.getType())
                                            && "True".equals(x.getStatus())),
                    60,
                    java.util.concurrent.TimeUnit.SECONDS);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The RBAC objects of the build's generated manifests. */
  static List<HasMetadata> generatedRbac(KubernetesClient k) {
    Path manifests = ProjectPaths.root().resolve("target/kubernetes/kubernetes.yml");
    try (InputStream in = Files.newInputStream(manifests)) {
      return k.load(in).items().stream().filter(r -> RBAC_KINDS.contains(r.getKind())).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void subjectsIn(List<Subject> subjects) {
    subjects.stream()
        .filter(s -> "ServiceAccount".equals(s.getKind()))
        .forEach(s -> s.setNamespace(NAMESPACE));
  }
}
