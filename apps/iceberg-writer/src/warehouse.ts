import { Provider } from '@nestjs/common';
import { Pool } from 'pg';
import { ConfigStore } from '@philotes/config';
import { IcebergTables, ObjectStore, SqlCatalog, warehouseStore } from '@philotes/iceberg';
import { BUFFER_POOL, CONFIG_STORE } from '@philotes/runtime';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** The warehouse (local directory or S3) and the tables in it, catalogued in the buffer database. */
export const warehouseProviders: Provider[] = [
  {
    provide: OBJECT_STORE,
    inject: [CONFIG_STORE],
    useFactory: (config: ConfigStore): ObjectStore => warehouseStore(config.settings),
  },
  {
    provide: IcebergTables,
    inject: [OBJECT_STORE, CONFIG_STORE, BUFFER_POOL],
    useFactory: (store: ObjectStore, config: ConfigStore, pool: Pool) => new IcebergTables(store, new SqlCatalog(config.settings.icebergCatalogName, pool)),
  },
];
