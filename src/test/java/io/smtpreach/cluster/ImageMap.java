package io.smtpreach.cluster;

import io.fabric8.kubernetes.api.model.Container;
import io.smtpreach.peers.ProjectPaths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a container image means to a {@link ProcessNode}: there is no image to pull, so an image
 * name (exactly, or by a prefix ending in {@code *}) maps to the ENTRYPOINT and CMD the image would
 * have, run from this machine's file system. The pod's command and args then combine with them the
 * Kubernetes way: {@code command} replaces the entrypoint, {@code args} replace the CMD.
 */
public final class ImageMap {
  /** The smtp-reach image, whatever its tag. */
  public static final String SMTP_REACH_IMAGE = "ghcr.io/smtp-reach/smtp-reach:*";

  /** The probes' DNS server on process nodes: loopback port 53, where nothing listens. */
  static final String NO_DNS = "127.0.0.1";

  /** An image's ENTRYPOINT and CMD. */
  public record Image(List<String> entrypoint, List<String> cmd) {
    public Image {
      entrypoint = List.copyOf(entrypoint);
      cmd = List.copyOf(cmd);
    }
  }

  private final Map<String, Image> images = new LinkedHashMap<>();

  /**
   * The smtp-reach image as {@code java -cp <test class path> io.smtpreach.cli.Main}, and busybox
   * as an image with no entrypoint and CMD {@code sh} (so its pods run this machine's commands).
   * Process nodes have no cluster DNS: the probes' resolver is this machine's loopback, where
   * nothing answers, so a look-up (the egress address's PTR) fails at once and no query leaves the
   * machine through its own resolver.
   */
  public static ImageMap standard() {
    return new ImageMap()
        .with(
            SMTP_REACH_IMAGE,
            List.of(
                ProjectPaths.java(),
                "-Ddns.server=" + NO_DNS,
                "-cp",
                ProjectPaths.classPath(),
                "io.smtpreach.cli.Main"),
            List.of())
        .with("busybox:*", List.of(), List.of("sh"))
        .with("docker.io/library/busybox:*", List.of(), List.of("sh"));
  }

  /** Adds (or replaces) an image; {@code pattern} is a name or a prefix followed by {@code *}. */
  public ImageMap with(String pattern, List<String> entrypoint, List<String> cmd) {
    images.put(pattern, new Image(entrypoint, cmd));
    return this;
  }

  /** The first image whose pattern matches, or empty: the image cannot be "pulled". */
  public Optional<Image> resolve(String image) {
    for (Map.Entry<String, Image> e : images.entrySet()) {
      String pattern = e.getKey();
      boolean matches =
          pattern.endsWith("*")
              ? image.startsWith(pattern.substring(0, pattern.length() - 1))
              : image.equals(pattern);
      if (matches) {
        return Optional.of(e.getValue());
      }
    }
    return Optional.empty();
  }

  /** The command line a container runs, before {@code $(VAR)} expansion. */
  public static List<String> commandLine(Image image, Container container) {
    List<String> command = container.getCommand();
    List<String> args = container.getArgs();
    List<String> line = new ArrayList<>();
    if (command != null && !command.isEmpty()) {
      line.addAll(command);
      if (args != null) {
        line.addAll(args);
      }
    } else {
      line.addAll(image.entrypoint());
      line.addAll(args != null && !args.isEmpty() ? args : image.cmd());
    }
    return line;
  }
}
