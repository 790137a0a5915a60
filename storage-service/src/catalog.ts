/** The catalog the storage-service asks before deleting: the metadata-service's stored_objects. */
import { AppError, type ServiceClient, StoredObjectResponse } from '@drive-import/common';
import type { StorageProvider } from '@drive-import/storage';

export interface StoredObjectCatalog {
  /** What the catalog says `key` of `destination` holds, or null when it knows no such object; throws when it cannot say. */
  find(destination: StorageProvider, key: string): Promise<StoredObjectResponse | null>;
}

/** GET /stored-objects on the metadata-service: 404 stored_object_not_found is "not known"; anything else throws. */
export function metadataCatalog(client: ServiceClient, timeoutMs = 5_000): StoredObjectCatalog {
  return {
    async find(destination, key) {
      try {
        return await client.call('GET', '/stored-objects', { query: { destination, key }, schema: StoredObjectResponse, timeoutMs });
      } catch (err) {
        // Only the route's own answer means "unknown": a 404 without it (an older metadata-service) is no answer.
        if (err instanceof AppError && err.status === 404 && err.code === 'stored_object_not_found') return null;
        throw err;
      }
    },
  };
}
