package io.smtpreach.status;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

/** A node's spec.providerID names its cloud; some clouds block 25 by documented policy. */
class CloudPort25PolicyTest {
  @ParameterizedTest
  @CsvSource({
    "gce://my-project/europe-west1-b/node-1, Google Cloud, cloud.google.com",
    "aws:///us-east-1a/i-0123456789abcdef0, AWS, repost.aws",
    "azure:///subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm,"
        + " Azure, learn.microsoft.com",
    "digitalocean://123456, DigitalOcean, docs.digitalocean.com",
    "linode://7654321, Linode, techdocs.akamai.com",
    "AWS:///eu-west-1a/i-1, AWS, repost.aws",
  })
  void aCloudThatBlocks25IsNamedWithItsDocumentationAndTheWayOut(
      String providerId, String cloud, String docs) {
    assertThat(CloudPort25Policy.explain(providerId))
        .hasValueSatisfying(
            m -> assertThat(m).contains(cloud, "https://" + docs, "use 587 to a relay"));
  }

  @ParameterizedTest
  @NullSource
  @ValueSource(
      strings = {"", "kind://docker/kind/node", "k3s://node-1", "openstack:///abc", "gce", "aws"})
  void otherNodesGetNoSentence(String providerId) {
    assertThat(CloudPort25Policy.explain(providerId)).isEmpty();
  }
}
