package io.smtpreach.peers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a deadline and returns its exit code and output. */
public final class ProcessRunner {
  /** What a finished command printed (stderr merged into stdout) and its exit code. */
  public record Result(int exitCode, String output) {
    public Result orThrow(String what) {
      if (exitCode != 0) {
        throw new IllegalStateException(what + " failed (exit " + exitCode + "):\n" + output);
      }
      return this;
    }
  }

  private ProcessRunner() {}

  public static Result run(List<String> command, long timeoutSeconds) {
    return run(command, timeoutSeconds, Map.of());
  }

  /** Runs {@code command} with {@code environment} added to this process's environment. */
  public static Result run(
      List<String> command, long timeoutSeconds, Map<String, String> environment) {
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.environment().putAll(environment);
      Process p = builder.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(command + " did not finish within " + timeoutSeconds + "s");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static Result run(String... command) {
    return run(List.of(command), 60);
  }
}
