/**
 * Connection settings that make the database notice a peer that vanished without closing its
 * sockets (a node lost, a network cut). Such a peer's sessions keep what they hold — the reader's
 * leader lock, the writers' table leases, an active replication slot — until the *server's* kernel
 * gives up on the connection: about two hours with Linux's default keepalives. Asked for in the
 * startup packet, the server probes an idle connection after a third of the timeout, drops it after
 * three unanswered probes half a third apart, and drops one whose sent data stays unacknowledged
 * for the whole timeout (`tcp_user_timeout`); the client probes its side the same way, as far as
 * Node allows (the first probe's delay).
 *
 * 0 turns this off (a connection pooler such as PgBouncer refuses startup `options` unless told to
 * ignore them); the servers' own settings then apply.
 */
export interface DeadPeerConfig {
  readonly keepAlive: true;
  readonly keepAliveInitialDelayMillis?: number;
  readonly options?: string;
}

export function deadPeerConfig(timeoutMs: number, options?: string): DeadPeerConfig {
  if (timeoutMs <= 0) return { keepAlive: true, ...(options ? { options } : {}) };
  const idleSeconds = Math.max(1, Math.floor(timeoutMs / 3_000));
  const intervalSeconds = Math.max(1, Math.floor(timeoutMs / 6_000));
  const server = `-c tcp_keepalives_idle=${idleSeconds} -c tcp_keepalives_interval=${intervalSeconds} -c tcp_keepalives_count=3 -c tcp_user_timeout=${Math.round(timeoutMs)}`;
  return { keepAlive: true, keepAliveInitialDelayMillis: idleSeconds * 1_000, options: options ? `${options} ${server}` : server };
}
