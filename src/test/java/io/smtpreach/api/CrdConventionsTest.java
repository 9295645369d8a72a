package io.smtpreach.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.smtpreach.peers.ProjectPaths;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The installed CRD (crds/, equal to the generated one) follows the Kubernetes API conventions. */
class CrdConventionsTest {
  private static JsonNode version;

  @BeforeAll
  static void read() throws IOException {
    JsonNode crd =
        new ObjectMapper(new YAMLFactory())
            .readTree(
                ProjectPaths.root().resolve("crds/smtpendpoints.smtpreach.io-v1.yml").toFile());
    version = crd.at("/spec/versions/0");
  }

  @Test
  void portsAreAListMapKeyedByPort() {
    JsonNode ports = schema("/spec/properties/ports");
    assertThat(ports.path("x-kubernetes-list-type").asText()).isEqualTo("map");
    assertThat(texts(ports.path("x-kubernetes-list-map-keys"))).containsExactly("port");
    assertThat(texts(ports.at("/items/required"))).contains("port");
  }

  @Test
  void conditionsAreMetaV1ConditionsKeyedByType() {
    JsonNode conditions = schema("/status/properties/conditions");
    assertThat(conditions.path("x-kubernetes-list-type").asText()).isEqualTo("map");
    assertThat(texts(conditions.path("x-kubernetes-list-map-keys"))).containsExactly("type");
    JsonNode item = conditions.path("items");
    assertThat(texts(item.path("required")))
        .containsExactlyInAnyOrder("type", "status", "lastTransitionTime", "reason", "message");
    assertThat(texts(item.at("/properties/status/enum")))
        .containsExactly("True", "False", "Unknown");
    assertThat(item.at("/properties/lastTransitionTime/format").asText()).isEqualTo("date-time");
    assertThat(item.at("/properties/reason/pattern").asText())
        .isEqualTo("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");
    assertThat(item.at("/properties/reason/minLength").asInt()).isEqualTo(1);
    assertThat(item.at("/properties/message/maxLength").asInt()).isEqualTo(32768);
    assertThat(item.at("/properties/type/maxLength").asInt()).isEqualTo(316);
  }

  @Test
  void printerColumnsShowTheEndpointsOwnPortsAndItsTargetHostOrMxDomain() {
    List<String> columns = new ArrayList<>();
    version.path("additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText()));
    assertThat(columns).containsExactly("Target", "Ports", "Recommended", "Ready", "Age");
    assertThat(column("Target").path("jsonPath").asText()).contains("host").contains("mxDomain");
    assertThat(column("Ports").path("jsonPath").asText()).isEqualTo(".status.summary");
  }

  private static JsonNode column(String name) {
    for (JsonNode c : version.path("additionalPrinterColumns")) {
      if (c.path("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no column " + name);
  }

  private static JsonNode schema(String path) {
    return version.at("/schema/openAPIV3Schema/properties" + path);
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
