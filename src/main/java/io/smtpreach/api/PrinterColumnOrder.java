package io.smtpreach.api;

import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.util.Comparator;
import java.util.List;

/**
 * Puts the CRD's printer columns in reading order (host, the ports from most to least used,
 * recommendation, Ready, age); the generator sorts them by name. Runs at build time only.
 */
public class PrinterColumnOrder implements CRDPostProcessor {
  static final List<String> ORDER =
      List.of("Host", "587", "465", "2525", "25", "Recommended", "Ready", "Summary", "Age");

  @Override
  public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
    if (crd instanceof CustomResourceDefinition v1) {
      v1.getSpec()
          .getVersions()
          .forEach(
              v -> {
                if (v.getAdditionalPrinterColumns() != null) {
                  v.getAdditionalPrinterColumns()
                      .sort(Comparator.comparingInt(PrinterColumnOrder::rank));
                }
              });
    }
    return crd;
  }

  private static int rank(CustomResourceColumnDefinition c) {
    int i = ORDER.indexOf(c.getName());
    return i < 0 ? ORDER.size() : i;
  }
}
