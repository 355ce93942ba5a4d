import { Client } from 'pg';
import { AdvisoryLeaderLock, backendPid, CONTROL_CHANNEL, controlNoticeSource } from '@philotes/buffer';
import { deadPeerConfig } from '@philotes/db';
import type { LeaderConnection, LeaderEvents, ReaderParts } from './reader-parts';
import { PostgresSourceRun, PostgresSourceRunDeps } from './source-run';

/** The leader connection on PostgreSQL: the lock is a session advisory lock on it. */
export interface PostgresLeader extends LeaderConnection {
  readonly client: Client;
}

export type PostgresReaderPartsDeps = Omit<PostgresSourceRunDeps, 'leader' | 'leaderPid'>;

/** A WalReader's parts on PostgreSQL: the buffer's leader connection and the source run on it. */
export function postgresReaderParts(deps: PostgresReaderPartsDeps): ReaderParts<PostgresLeader> {
  return {
    connectLeader: (events) => connectLeader(deps, events),
    sourceRun: (leader) => new PostgresSourceRun({ ...deps, leader: leader.client, leaderPid: leader.pid }),
  };
}

async function connectLeader(deps: PostgresReaderPartsDeps, events: LeaderEvents): Promise<PostgresLeader> {
  const client = new Client({ connectionString: deps.bufferUrl, application_name: 'philotes-wal-reader-leader', ...deadPeerConfig(deps.settings().tcpUserTimeoutMs) });
  // Losing this connection loses the lock. (Queries running on it are rejected by pg itself.)
  client.on('error', (error) => events.lost(error));
  client.on('end', () => events.lost(new Error('the buffer connection holding the leader lock ended')));
  client.on('notification', (notice) => {
    if (notice.channel === CONTROL_CHANNEL) events.control(controlNoticeSource(notice.payload));
  });
  try {
    await client.connect();
    // The source lets WAL go once a commit here returns. With synchronous_commit off on the buffer
    // server, a commit can return before it is durable and a crash of the buffer then loses
    // events the source no longer holds. This session's commits are durable whatever the default.
    await client.query('SET synchronous_commit = on');
    const pid = await backendPid(client);
    return { client, pid, lock: new AdvisoryLeaderLock(client), end: () => client.end().catch(() => undefined) };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
