package io.smtpreach.status;

/**
 * A source's egress that changed in a way people act on: what becomes a Kubernetes Event. The
 * address changing breaks relays' allowlists and SPF records that name it; a listing makes
 * receivers refuse the mail.
 *
 * @param list the blocklist, for {@link Kind#LISTED} and {@link Kind#DELISTED}; else null
 */
public record EgressChange(Kind kind, String source, String address, String list, String text) {
  /** What changed; the name is the Event's reason. */
  public enum Kind {
    EgressAddressChanged(true),
    EgressAddressListed(true),
    EgressAddressDelisted(false);

    /** Whether the change is a Warning (something to act on) rather than Normal. */
    public final boolean warning;

    Kind(boolean warning) {
      this.warning = warning;
    }
  }

  public String eventReason() {
    return kind.name();
  }

  /** "egress from zone-b: 203.0.113.5 is listed on bl.example: Listed: see ...". */
  public String eventMessage() {
    String from = source.equals(StatusAggregator.ANY_SOURCE) ? "egress" : "egress from " + source;
    return from + ": " + text;
  }
}
