import { ClientBase } from 'pg';
import { LockSpace } from '@philotes/db';
import { LeaderLock } from '../ports';

/** FNV-1a, 32-bit: a stable key for a name (PostgreSQL's hashtext is internal and may change). */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

/**
 * A session-level advisory lock: held while this connection lives. A reader that dies, or loses its
 * buffer connection, drops it; a standby polling with `tryAcquire` then takes over.
 */
export class AdvisoryLeaderLock implements LeaderLock {
  constructor(private readonly client: ClientBase) {}

  async tryAcquire(sourceId: string): Promise<boolean> {
    const { rows } = await this.client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS acquired', [LockSpace.SourceReader, stableHash(sourceId)]);
    return rows[0].acquired;
  }
}

/** Raised inside a copy's transaction when its reader no longer leads the source. */
export class LeadershipLostError extends Error {
  readonly code = 'PHILOTES_NOT_LEADER';
  constructor(sourceId: string) {
    super(`this reader no longer leads source ${sourceId}; its copy stops`);
  }
}

/**
 * A copy writes on a connection of its own, not the one holding the leader lock: each of its
 * transactions first checks that the lock is still held by the leader connection's backend
 * (`leaderPid`). Once that backend is gone another reader may lead, and this one's copy writes
 * nothing more; while it lives no other reader can take the lock.
 */
export interface LeaderFence {
  readonly sourceId: string;
  readonly leaderPid: number;
}

/** Inside the caller's transaction: throws LeadershipLostError unless `fence` still leads. */
export async function assertLeading(client: Pick<ClientBase, 'query'>, fence: LeaderFence): Promise<void> {
  const { rows } = await client.query<{ leading: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1
                      AND classid = ($2::int4)::oid AND objid = ($3::int4)::oid AND objsubid = 2) AS leading`,
    [fence.leaderPid, LockSpace.SourceReader, stableHash(fence.sourceId)],
  );
  if (!rows[0].leading) throw new LeadershipLostError(fence.sourceId);
}

/** The backend of the connection that holds (or will hold) the leader lock. */
export async function backendPid(client: Pick<ClientBase, 'query'>): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0].pid;
}
