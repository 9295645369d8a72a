package io.smtpreach.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.smtpreach.peers.ProcessRunner;
import io.smtpreach.peers.ProjectPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * Where a Docker engine and its registries are reachable: the image built from the Dockerfile,
 * loaded into k3s, the chart installed with Helm, and an SmtpEndpoint for a Postfix pod in the
 * cluster probed. It skips without Docker, or when the images it needs cannot be pulled, and is not
 * subject to SMTP_REACH_REQUIRE_ALL: the machines this project is built on have neither.
 */
class K3sChartIT {
  private static final DockerImageName K3S = DockerImageName.parse("rancher/k3s:v1.33.4-k3s1");
  private static final String POSTFIX = "docker.io/boky/postfix:v4.4.0";
  private static final String IMAGE = "ghcr.io/smtp-reach/smtp-reach:0.1.0";

  @BeforeAll
  static void docker() {
    boolean available;
    try {
      available = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) { // an engine that answers but cannot run containers
      Assumptions.abort("skipped: the Docker engine is not usable (" + e.getMessage() + ")");
      return;
    }
    Assumptions.assumeTrue(available, "skipped: no Docker engine");
    for (String image :
        List.of(K3S.asCanonicalNameString(), "eclipse-temurin:21-jre-noble", POSTFIX)) {
      try {
        DockerClientFactory.instance().client().pullImageCmd(image).start().awaitCompletion();
      } catch (Exception e) {
        Assumptions.abort("skipped: cannot pull " + image + " (" + e.getMessage() + ")");
      }
    }
  }

  @Test
  void theChartInstallsInK3sAndTheOperatorProbesAPostfixPod() throws Exception {
    Path root = ProjectPaths.root();
    String built =
        new ImageFromDockerfile(IMAGE, false)
            .withDockerfile(root.resolve("src/main/docker/Dockerfile"))
            .withFileFromPath(".", root)
            .get();
    Path tar = Files.createTempFile("smtp-reach-image", ".tar");
    try (var in = DockerClientFactory.instance().client().saveImageCmd(built).exec()) {
      Files.copy(in, tar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    try (K3sContainer k3s = new K3sContainer(K3S)) {
      k3s.start();
      k3s.copyFileToContainer(MountableFile.forHostPath(tar), "/tmp/image.tar");
      assertThat(
              k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", "/tmp/image.tar")
                  .getExitCode())
          .isZero();
      Path kubeconfig = Files.createTempFile("k3s", ".kubeconfig");
      Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
      var install =
          ProcessRunner.run(
              List.of(
                  Helm.binary().toString(),
                  "install",
                  "smtp-reach",
                  Helm.CHART.toString(),
                  "--kubeconfig",
                  kubeconfig.toString(),
                  "--namespace",
                  Helm.NAMESPACE,
                  "--create-namespace",
                  "--set",
                  "image.pullPolicy=Never",
                  "--wait",
                  "--timeout",
                  "5m"),
              600);
      assertThat(install.exitCode()).as(install.output()).isZero();
      try (KubernetesClient k =
          new KubernetesClientBuilder()
              .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
              .build()) {
        k.run()
            .inNamespace("default")
            .withName("postfix")
            .withNewRunConfig()
            .withImage(POSTFIX)
            .withEnv(Map.of("ALLOW_EMPTY_SENDER_DOMAINS", "true"))
            .done();
        k.services()
            .inNamespace("default")
            .resource(
                new io.fabric8.kubernetes.api.model.ServiceBuilder()
                    .withNewMetadata()
                    .withName("postfix")
                    .endMetadata()
                    .withNewSpec()
                    .addToSelector("run", "postfix")
                    .addNewPort()
                    .withPort(587)
                    .endPort()
                    .endSpec()
                    .build())
            .create();
        k.resource(
                k.getKubernetesSerialization()
                    .unmarshal(
                        """
                        apiVersion: smtpreach.io/v1alpha1
                        kind: SmtpEndpoint
                        metadata: {name: postfix, namespace: default}
                        spec:
                          host: postfix.default.svc.cluster.local
                          ports: [{port: 587, tls: Auto}]
                          tls: {insecureSkipVerify: true}
                        """,
                        GenericKubernetesResource.class))
            .create();
        await("a first round in k3s")
            .atMost(Duration.ofMinutes(5))
            .until(
                () ->
                    k.genericKubernetesResources("smtpreach.io/v1alpha1", "SmtpEndpoint")
                        .inNamespace("default")
                        .withName("postfix")
                        .get(),
                ep ->
                    ep.getAdditionalProperties().get("status") instanceof Map<?, ?> st
                        && st.get("lastProbeTime") != null);
      }
    } finally {
      Files.deleteIfExists(tar);
    }
  }
}
