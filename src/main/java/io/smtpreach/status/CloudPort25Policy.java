package io.smtpreach.status;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Clouds whose documented policy blocks or throttles outbound port 25, recognised by the scheme of
 * a node's {@code spec.providerID}: when 25 is Blocked from such a node, the cause is the provider,
 * not a firewall of one's own, and the way out is a relay on 587.
 */
public final class CloudPort25Policy {
  /** One provider's policy: its providerID scheme, what it does to 25, where it says so. */
  record Provider(String scheme, String policy, String documentation) {}

  static final List<Provider> PROVIDERS =
      List.of(
          new Provider(
              "gce",
              "Google Cloud blocks outbound connections to port 25 from every VM",
              "https://cloud.google.com/vpc/docs/firewalls#blockedtraffic"),
          new Provider(
              "aws",
              "AWS blocks or throttles outbound port 25 on EC2 until a request to lift it is"
                  + " approved",
              "https://repost.aws/knowledge-center/ec2-port-25-throttle"),
          new Provider(
              "azure",
              "Azure blocks outbound port 25 for most subscription types",
              "https://learn.microsoft.com/azure/virtual-network/troubleshoot-outbound-smtp-connectivity"),
          new Provider(
              "digitalocean",
              "DigitalOcean blocks outbound port 25 on new accounts",
              "https://docs.digitalocean.com/support/why-is-smtp-blocked/"),
          new Provider(
              "linode",
              "Akamai (Linode) blocks outbound mail ports on new accounts",
              "https://techdocs.akamai.com/cloud-computing/docs/send-email"));

  private CloudPort25Policy() {}

  /**
   * The sentence to add to port 25's Blocked message on a node with this providerID, if its cloud
   * is known to block 25.
   */
  public static Optional<String> explain(String providerId) {
    if (providerId == null) {
      return Optional.empty();
    }
    int colon = providerId.indexOf("://");
    if (colon <= 0) {
      return Optional.empty();
    }
    String scheme = providerId.substring(0, colon).toLowerCase(Locale.ROOT);
    return PROVIDERS.stream()
        .filter(p -> p.scheme().equals(scheme))
        .findFirst()
        .map(
            p ->
                p.policy()
                    + " ("
                    + p.documentation()
                    + "): use 587 to a relay (a submission service, or your own relay outside"
                    + " this cloud)");
  }
}
