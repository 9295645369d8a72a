package io.smtpreach.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a process node turns an image and a container spec into a command line. */
class ImageMapTest {
  private final ImageMap images =
      new ImageMap()
          .with("example.test/tool:*", List.of("/bin/tool", "--flag"), List.of("serve"))
          .with("example.test/exact:1", List.of(), List.of("sh"));

  @Test
  void argsReplaceTheImagesCmdAndFollowItsEntrypoint() {
    ImageMap.Image tool = images.resolve("example.test/tool:v2").orElseThrow();

    assertThat(ImageMap.commandLine(tool, container(null, List.of("probe", "x"))))
        .containsExactly("/bin/tool", "--flag", "probe", "x");
    assertThat(ImageMap.commandLine(tool, container(null, null)))
        .containsExactly("/bin/tool", "--flag", "serve");
  }

  @Test
  void commandReplacesTheEntrypointAndDropsTheCmd() {
    ImageMap.Image tool = images.resolve("example.test/tool:v2").orElseThrow();

    assertThat(ImageMap.commandLine(tool, container(List.of("echo"), null)))
        .containsExactly("echo");
    assertThat(ImageMap.commandLine(tool, container(List.of("echo"), List.of("hi"))))
        .containsExactly("echo", "hi");
  }

  @Test
  void patternsMatchExactlyOrByPrefix() {
    assertThat(images.resolve("example.test/exact:1")).isPresent();
    assertThat(images.resolve("example.test/exact:2")).isEmpty();
    assertThat(images.resolve("registry.invalid/nope:1")).isEmpty();
  }

  @Test
  void variableReferencesExpandLikeKubernetes() {
    Map<String, String> env = Map.of("NAME", "pod-1");

    assertThat(ContainerEnvironment.expand("$(NAME)/$(MISSING)/$$(NAME)/$NAME", env))
        .isEqualTo("pod-1/$(MISSING)/$(NAME)/$NAME");
  }

  private static Container container(List<String> command, List<String> args) {
    return new ContainerBuilder()
        .withName("c")
        .withImage("x")
        .withCommand(command)
        .withArgs(args)
        .build();
  }
}
