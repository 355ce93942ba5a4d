import { Pool } from 'pg';
import { inTransaction } from '@philotes/db';
import type { InstanceIdentity, InstanceSnapshot, InstanceStateStore, Transition } from '@philotes/lifecycle';

/** `pipeline_instances` and `pipeline_transitions`: each process's state as it reports it, and its history. */
export class PostgresInstanceStateStore implements InstanceStateStore {
  constructor(private readonly pool: Pool) {}

  async record(identity: InstanceIdentity, snapshot: InstanceSnapshot, transitions: readonly Transition[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO pipeline_instances
           (instance_id, app, source_id, state, reason, state_since, started_at, heartbeat_at, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8)
         ON CONFLICT (instance_id) DO UPDATE SET
           state = EXCLUDED.state, reason = EXCLUDED.reason, state_since = EXCLUDED.state_since,
           heartbeat_at = now(), details = EXCLUDED.details`,
        [identity.instanceId, identity.app, identity.sourceId ?? null, snapshot.state, snapshot.reason ?? null, snapshot.stateSince, identity.startedAt, snapshot.details],
      );
      if (transitions.length > 0) {
        await client.query(
          `INSERT INTO pipeline_transitions (instance_id, from_state, to_state, reason, at)
           SELECT $1, t.from_state, t.to_state, t.reason, t.at
             FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS t(from_state, to_state, reason, at)`,
          [identity.instanceId, transitions.map((t) => t.from), transitions.map((t) => t.to), transitions.map((t) => t.reason ?? null), transitions.map((t) => t.at)],
        );
      }
    });
  }
}
