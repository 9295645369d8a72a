package io.smtpreach.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * The informer cache of endpoints, keeping each without {@code metadata.managedFields}: nothing
 * here reads them (status is written by server-side apply from a fresh object), and at 5,000
 * endpoints they were memory the operator's 512 MiB could not spare (docs/benchmarks.md).
 */
public final class WithoutManagedFields<V extends HasMetadata> extends BasicItemStore<V> {
  public WithoutManagedFields() {
    super(Cache::metaNamespaceKeyFunc);
  }

  @Override
  public V put(String key, V resource) {
    resource.getMetadata().setManagedFields(null);
    return super.put(key, resource);
  }
}
