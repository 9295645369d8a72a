package io.smtpreach.cli;

import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.Durations;
import io.smtpreach.probe.EgressFacts;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsFacts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The human table: one line per port with state, timings and the one detail that matters. */
final class TableRenderer {
  private final Instant now;

  TableRenderer() {
    this(Instant.now());
  }

  TableRenderer(Instant now) {
    this.now = now;
  }

  String render(ProbeReport report) {
    boolean showHost = report.results().stream().anyMatch(r -> !r.host().equals(report.subject()));
    List<String[]> rows = new ArrayList<>();
    List<String> header =
        new ArrayList<>(
            List.of(
                "PORT", "MODE", "EXPECT", "STATE", "REASON", "CONNECT", "TLS", "TOTAL", "DETAIL"));
    if (showHost) {
      header.add(0, "HOST");
    }
    rows.add(header.toArray(String[]::new));
    for (ProbeResult r : report.results()) {
      List<String> row =
          new ArrayList<>(
              List.of(
                  r.target().port() + familySuffix(r),
                  r.target().mode().displayName(),
                  expect(r),
                  r.state().displayName() + (r.matchesExpectation() ? "" : " !"),
                  r.reason().displayName(),
                  time(r.timing(Phase.CONNECT)),
                  time(r.timing(Phase.TLS_HANDSHAKE)),
                  time(r.timing(Phase.TOTAL)),
                  detail(r)));
      if (showHost) {
        row.add(0, r.host());
      }
      rows.add(row.toArray(String[]::new));
    }
    StringBuilder out = new StringBuilder();
    out.append(report.mx() ? "MX hosts of " : "")
        .append(report.subject())
        .append(addresses(report))
        .append("\n\n");
    out.append(table(rows));
    out.append('\n');
    if (report.truncated() > 0) {
      out.append(report.truncated()).append(" more results left out\n");
    }
    long failing = report.results().stream().filter(r -> !r.matchesExpectation()).count();
    if (failing > 0) {
      out.append(failing)
          .append(" of ")
          .append(report.results().size())
          .append(" not as expected (marked !)\n");
    }
    if (report.egress() != null) {
      out.append(egress(report.egress()));
    }
    if (report.mx()) {
      boolean direct = report.results().stream().anyMatch(r -> r.reason() == Reason.OK);
      out.append("Direct delivery on port 25: ")
          .append(direct ? "possible" : "not possible")
          .append('\n');
    } else {
      out.append("Recommended: ")
          .append(
              report
                  .recommended()
                  .map(t -> t.port() + "/" + t.mode().displayName())
                  .orElse("none (no secure submission port works)"))
          .append('\n');
    }
    return out.toString();
  }

  /**
   * {@code Egress: 203.0.113.5 (seen by the server; local 10.0.0.7), PTR out.example.com
   * (confirmed)}, then a line per blocklist that had something to say.
   */
  static String egress(EgressFacts e) {
    StringBuilder out = new StringBuilder("Egress: ").append(e.address());
    if (e.seenBy() == EgressFacts.SeenBy.SERVER) {
      out.append(" (seen by the server");
      if (e.local() != null && !e.local().equals(e.address())) {
        out.append("; local ").append(e.local());
      }
      out.append(')');
    } else {
      out.append(" (local; no server said which address it saw)");
    }
    if (e.ptr() != null) {
      out.append(", PTR ")
          .append(e.ptr())
          .append(
              e.ptrConfirmed() == null
                  ? " (not confirmed: lookup failed)"
                  : e.ptrConfirmed() ? " (confirmed)" : " (does not resolve back)");
    } else if (Boolean.FALSE.equals(e.ptrConfirmed())) {
      out.append(", no PTR");
    } else if (e.ptrConfirmed() == null) {
      out.append(", PTR unknown");
    }
    out.append('\n');
    for (EgressFacts.Dnsbl l : e.lists()) {
      String what =
          switch (l.verdict()) {
            case LISTED -> "LISTED";
            case NOT_LISTED -> "not listed";
            // The detail says why: the list's own error code, or the lookup's failure.
            case LIST_ERROR, LOOKUP_FAILED -> "no verdict";
          };
      out.append("  ")
          .append(l.zone())
          .append(": ")
          .append(what)
          .append(l.detail() == null ? "" : ": " + l.detail())
          .append('\n');
    }
    return out.toString();
  }

  private static String addresses(ProbeReport report) {
    if (report.mx() || report.results().isEmpty()) {
      return "";
    }
    List<String> all = report.results().get(0).addresses();
    if (all.isEmpty() || (all.size() == 1 && all.get(0).equals(report.subject()))) {
      return "";
    }
    return " (" + String.join(", ", all) + ")";
  }

  private static String familySuffix(ProbeResult r) {
    return switch (r.family()) {
      case V4 -> "/v4";
      case V6 -> "/v6";
      default -> "";
    };
  }

  private static String expect(ProbeResult r) {
    String e = r.target().expect().name();
    return e.charAt(0) + e.substring(1).toLowerCase(java.util.Locale.ROOT);
  }

  private static String time(Duration d) {
    return d == null ? "-" : Durations.format(d);
  }

  /** The one detail that matters of a port: its message, TLS version, certificate and AUTH. */
  String detail(ProbeResult r) {
    if (r.reason() != Reason.OK && r.tls() == null) {
      return r.message();
    }
    List<String> parts = new ArrayList<>();
    parts.add(r.message());
    TlsFacts tls = r.tls();
    if (tls != null) {
      parts.add(tls.protocol());
      CertificateFacts c = tls.certificate();
      if (c != null) {
        long days = c.daysLeft(now);
        parts.add(
            "cert "
                + shortName(c.subject())
                + " by "
                + shortName(c.issuer())
                + (days >= 0 ? ", " + days + "d left" : ", expired " + -days + "d ago"));
      }
    }
    if (!r.authMechanisms().isEmpty()) {
      parts.add("AUTH " + String.join(" ", r.authMechanisms()));
    }
    return String.join(", ", parts);
  }

  /** {@code CN=smtp.test,O=Example} becomes {@code smtp.test}. */
  private static String shortName(String dn) {
    if (dn == null) {
      return "?";
    }
    for (String part : dn.split(",")) {
      if (part.trim().startsWith("CN=")) {
        return part.trim().substring(3);
      }
    }
    return dn;
  }

  private static String table(List<String[]> rows) {
    int columns = rows.get(0).length;
    int[] width = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns - 1; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(width[i] - row[i].length() + 2));
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }
}
