package io.smtpreach.cli;

import io.smtpreach.probe.CertificateFacts;
import io.smtpreach.probe.Phase;
import io.smtpreach.probe.PortState;
import io.smtpreach.probe.ProbeReport;
import io.smtpreach.probe.ProbeResult;
import io.smtpreach.probe.Reason;
import io.smtpreach.probe.TlsMode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code --output nagios}: a report as the Nagios plugin API wants it, so that the command drops in
 * where check_smtp runs today. The first line is {@code SMTP-REACH STATUS - } each port's state and
 * reason, then {@code |} and perfdata (per port: connect, greeting, TLS handshake and total time in
 * seconds; days the certificate has left when one was seen); each further line is one port's
 * detail, as the table's DETAIL column says it (Nagios keeps it as long output).
 *
 * <p>A port's status, from the state taxonomy ({@code README.md#states}):
 *
 * <ul>
 *   <li>not as expected: CRITICAL (Blocked, Refused, Unreachable, Rejected, ModeMismatch,
 *       TlsFailure, ProtocolError, a name that does not exist: NoSuchHost, NoAddress, NullMx); but
 *       UNKNOWN when the probe could not tell: state Error, or a DNS answer that never came
 *       (DnsTimeout, DnsError), which may be this machine's resolver and not the server;
 *   <li>as expected, with a certificate that has fewer days left than {@code --cert-warning-days}
 *       (14, as the SmtpCertificateExpiringSoon alert): WARNING;
 *   <li>as expected otherwise: OK.
 * </ul>
 *
 * The check's status is the worst port's ({@link NagiosStatus#worse}).
 */
final class NagiosRenderer {
  static final String SERVICE = "SMTP-REACH";

  /** Days of certificate left below which a port is WARNING, as the alert rules say. */
  static final int DEFAULT_CERT_WARNING_DAYS = 14;

  private final Instant now;
  private final int certWarningDays;

  NagiosRenderer(Instant now, int certWarningDays) {
    this.now = now;
    this.certWarningDays = certWarningDays;
  }

  /** The status line of a check that could not run, or was called wrongly: UNKNOWN. */
  static String unknown(String message) {
    return SERVICE + " " + NagiosStatus.UNKNOWN + " - " + text(message);
  }

  NagiosStatus status(ProbeReport report) {
    if (report.results().isEmpty()) {
      return NagiosStatus.UNKNOWN;
    }
    NagiosStatus worst = NagiosStatus.OK;
    for (ProbeResult r : report.results()) {
      worst = worst.worse(status(r));
    }
    return worst;
  }

  NagiosStatus status(ProbeResult r) {
    if (!r.matchesExpectation()) {
      boolean couldNotTell =
          r.state() == PortState.ERROR
              || r.reason() == Reason.DNS_TIMEOUT
              || r.reason() == Reason.DNS_ERROR;
      return couldNotTell ? NagiosStatus.UNKNOWN : NagiosStatus.CRITICAL;
    }
    Long days = certDaysLeft(r);
    return days != null && days < certWarningDays ? NagiosStatus.WARNING : NagiosStatus.OK;
  }

  String render(ProbeReport report) {
    if (report.results().isEmpty()) {
      return unknown("no result for " + report.subject()) + "\n";
    }
    boolean showHost = report.mx();
    List<String> ports = new ArrayList<>();
    List<String> perfdata = new ArrayList<>();
    List<String> details = new ArrayList<>();
    TableRenderer table = new TableRenderer(now);
    for (ProbeResult r : report.results()) {
      String label = (showHost ? r.host() + " " : "") + r.label();
      ports.add(label + " " + r.state().displayName() + " (" + String.join(", ", notes(r)) + ")");
      perfdata.addAll(perfdata(r, showHost));
      details.add(text(label + ": " + table.detail(r)));
    }
    StringBuilder out = new StringBuilder();
    out.append(SERVICE)
        .append(' ')
        .append(status(report))
        .append(" - ")
        .append(text((report.mx() ? "MX hosts of " : "") + report.subject()))
        .append(": ")
        .append(text(String.join("; ", ports)))
        .append(" | ")
        .append(String.join(" ", perfdata))
        .append('\n');
    for (String d : details) {
      out.append(d).append('\n');
    }
    return out.toString();
  }

  /** The reason, and what makes the port's status more than its state says. */
  private List<String> notes(ProbeResult r) {
    List<String> notes = new ArrayList<>();
    notes.add(r.reason().displayName());
    if (!r.matchesExpectation()) {
      String e = r.target().expect().name();
      notes.add("expected " + e.charAt(0) + e.substring(1).toLowerCase(Locale.ROOT));
    }
    Long days = certDaysLeft(r);
    if (days != null && days < certWarningDays) {
      notes.add(days >= 0 ? "certificate expires in " + days + "d" : "certificate expired");
    }
    return notes;
  }

  private List<String> perfdata(ProbeResult r, boolean showHost) {
    String prefix =
        ((showHost ? r.host() + "_" : "") + r.label().replace('/', '_')).toLowerCase(Locale.ROOT);
    List<String> out = new ArrayList<>();
    out.add(seconds(prefix + "_connect", r.timing(Phase.CONNECT)));
    out.add(seconds(prefix + "_greeting", r.timing(Phase.GREETING)));
    if (r.target().mode() != TlsMode.NONE) {
      out.add(seconds(prefix + "_tls", r.timing(Phase.TLS_HANDSHAKE)));
    }
    out.add(seconds(prefix + "_total", r.timing(Phase.TOTAL)));
    Long days = certDaysLeft(r);
    if (days != null) {
      // "14:" is the plugin API's range for "warn below 14".
      out.add(label(prefix + "_cert_days") + "=" + days + ";" + certWarningDays + ":");
    }
    return out;
  }

  /** A time in seconds, or U (the plugin API's "could not be determined") when not measured. */
  private static String seconds(String name, Duration d) {
    String value =
        d == null ? "U" : String.format(Locale.ROOT, "%.6fs", d.toNanos() / 1_000_000_000.0);
    return label(name) + "=" + value + ";;;0";
  }

  private Long certDaysLeft(ProbeResult r) {
    if (r.tls() == null) {
      return null;
    }
    CertificateFacts c = r.tls().certificate();
    return c == null ? null : c.daysLeft(now);
  }

  /** A perfdata label, quoted when the plugin API needs it; no quote or equals sign inside. */
  private static String label(String name) {
    String clean = name.replace('\'', '_').replace('=', '_');
    return clean.contains(" ") ? "'" + clean + "'" : clean;
  }

  /** Text for the output: one line, and no '|', which would start perfdata. */
  private static String text(String s) {
    return s.replace('|', '/').replace('\n', ' ').replace('\r', ' ');
  }
}
