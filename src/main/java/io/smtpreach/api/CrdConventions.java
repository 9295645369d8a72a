package io.smtpreach.api;

import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.util.Comparator;
import java.util.List;

/**
 * What the Kubernetes API conventions ask of the CRD and Fabric8's generator cannot express: list
 * maps (the API server's own uniqueness and server-side apply merging by key), conditions typed as
 * metav1.Condition, and printer columns in reading order (the generator sorts them by name). Runs
 * at build time only.
 */
public class CrdConventions implements CRDPostProcessor {
  static final List<String> COLUMN_ORDER =
      List.of("Target", "Ports", "Recommended", "Ready", "Age");

  @Override
  public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
    if (crd instanceof CustomResourceDefinition v1) {
      v1.getSpec().getVersions().forEach(CrdConventions::apply);
    }
    return crd;
  }

  private static void apply(CustomResourceDefinitionVersion version) {
    if (version.getAdditionalPrinterColumns() != null) {
      version
          .getAdditionalPrinterColumns()
          .sort(Comparator.comparingInt(CrdConventions::columnRank));
    }
    JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
    listMap(property(root, "spec", "ports"), "port");
    JSONSchemaProps conditions = property(root, "status", "conditions");
    conditions.setItems(
        new io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaPropsOrArray(
            null, MetaV1ConditionSchema.schema()));
    listMap(conditions, "type");
  }

  private static void listMap(JSONSchemaProps list, String key) {
    list.setXKubernetesListType("map");
    list.setXKubernetesListMapKeys(List.of(key));
  }

  private static JSONSchemaProps property(JSONSchemaProps root, String... path) {
    JSONSchemaProps p = root;
    for (String name : path) {
      p = p.getProperties().get(name);
      if (p == null) {
        throw new IllegalStateException("the CRD schema has no " + String.join(".", path));
      }
    }
    return p;
  }

  private static int columnRank(CustomResourceColumnDefinition c) {
    int i = COLUMN_ORDER.indexOf(c.getName());
    return i < 0 ? COLUMN_ORDER.size() : i;
  }
}
