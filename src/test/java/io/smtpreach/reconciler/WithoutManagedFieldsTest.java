package io.smtpreach.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.smtpreach.api.SmtpEndpoint;
import org.junit.jupiter.api.Test;

class WithoutManagedFieldsTest {
  @Test
  void cachedEndpointsKeepEverythingButTheirManagedFields() {
    SmtpEndpoint ep = new SmtpEndpoint();
    ep.setMetadata(
        new ObjectMetaBuilder()
            .withName("mail")
            .withNamespace("team")
            .withResourceVersion("42")
            .addToAnnotations("smtpreach.io/probe-now", "1")
            .withManagedFields(
                new ManagedFieldsEntryBuilder()
                    .withManager("smtpendpoint")
                    .withOperation("Apply")
                    .withSubresource("status")
                    .build())
            .build());
    WithoutManagedFields<SmtpEndpoint> store = new WithoutManagedFields<>();

    store.put(store.getKey(ep), ep);

    SmtpEndpoint cached = store.get("team/mail");
    assertThat(cached.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(cached.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(cached.getMetadata().getAnnotations()).containsKey("smtpreach.io/probe-now");
  }
}
