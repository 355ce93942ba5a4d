import { Provider } from '@nestjs/common';
import { ConfigStore } from '@philotes/config';
import { createObjectStore, IcebergTables, ObjectStore, SqlCatalog } from '@philotes/iceberg';
import { CONFIG_STORE } from '@philotes/runtime';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** The warehouse (local directory or S3) and the tables in it, catalogued in the buffer database. */
export const warehouseProviders: Provider[] = [
  {
    provide: OBJECT_STORE,
    inject: [CONFIG_STORE],
    useFactory: (config: ConfigStore): ObjectStore => {
      const s = config.settings;
      return createObjectStore(s.icebergWarehouse, {
        ...(s.icebergS3Endpoint ? { endpoint: s.icebergS3Endpoint } : {}),
        region: s.icebergS3Region,
        ...(s.icebergS3AccessKeyId ? { accessKeyId: s.icebergS3AccessKeyId } : {}),
        ...(s.icebergS3SecretAccessKey ? { secretAccessKey: s.icebergS3SecretAccessKey } : {}),
        forcePathStyle: s.icebergS3PathStyle,
      });
    },
  },
  {
    provide: IcebergTables,
    inject: [OBJECT_STORE, CONFIG_STORE],
    useFactory: (store: ObjectStore, config: ConfigStore) => new IcebergTables(store, new SqlCatalog(config.settings.icebergCatalogName)),
  },
];
