package io.smtpreach.cli;

import io.smtpreach.probe.TranscriptListener;
import java.io.PrintWriter;

/**
 * What {@code -v} prints: each port's SMTP dialogue as swaks shows one, {@code ->} for a command
 * sent, {@code <-} for a reply line received, {@code ~>} and {@code <~} for the same inside TLS,
 * {@code ===} for the probe's own notes. Ports are probed at once, so each line starts with its
 * port (and host, for MX hosts), and whole lines are printed one at a time.
 */
final class TranscriptPrinter implements TranscriptListener {
  private final PrintWriter out;
  private final boolean showHost;

  /**
   * @param out where the lines go: stderr, so that the report on stdout stays parseable
   * @param showHost whether lines name their host (several hosts are probed: MX mode)
   */
  TranscriptPrinter(PrintWriter out, boolean showHost) {
    this.out = out;
    this.showHost = showHost;
  }

  @Override
  public void line(Line line) {
    String text = prefix(line) + arrow(line) + line.text();
    synchronized (out) {
      out.println(text);
      out.flush();
    }
  }

  private String prefix(Line line) {
    String port =
        line.target().label()
            + switch (line.family()) {
              case V4 -> "/v4";
              case V6 -> "/v6";
              default -> "";
            };
    return (showHost ? line.host() + " " : "") + port + " ";
  }

  private static String arrow(Line line) {
    return switch (line.kind()) {
      case SENT -> line.encrypted() ? " ~> " : " -> ";
      case RECEIVED -> line.encrypted() ? "<~  " : "<-  ";
      case NOTE -> "=== ";
    };
  }
}
