import { Provider } from '@nestjs/common';
import { Pool } from 'pg';
import { ConfigStore } from '@philotes/config';
import { IcebergTables, measuredStore, ObjectStore, SqlCatalog, warehouseStore } from '@philotes/iceberg';
import { METRICS_REGISTRY } from '@philotes/metrics';
import { StoreMetrics } from '@philotes/writer';
import { Registry } from 'prom-client';
import { BUFFER_POOL, CONFIG_STORE } from '@philotes/runtime';

export const OBJECT_STORE = Symbol('OBJECT_STORE');

/** The warehouse (local directory or S3), measured, and the tables in it, catalogued in the buffer database. */
export const warehouseProviders: Provider[] = [
  {
    provide: OBJECT_STORE,
    inject: [CONFIG_STORE, METRICS_REGISTRY],
    // Every request the writer makes (commits, upkeep, readiness) is measured here, once.
    useFactory: (config: ConfigStore, registry: Registry): ObjectStore => measuredStore(warehouseStore(config.settings), new StoreMetrics(registry).record),
  },
  {
    provide: IcebergTables,
    inject: [OBJECT_STORE, CONFIG_STORE, BUFFER_POOL],
    useFactory: (store: ObjectStore, config: ConfigStore, pool: Pool) => new IcebergTables(store, new SqlCatalog(config.settings.icebergCatalogName, pool)),
  },
];
