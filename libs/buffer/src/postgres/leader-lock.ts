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
