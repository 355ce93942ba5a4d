/** Where an HTTP server listens. `host` undefined means every interface, as Go's `:8081` does. */
export interface ListenAddress {
  readonly host?: string;
  readonly port: number;
}

const ADDRESS = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/;

/** Parses `:8081`, `0.0.0.0:8081`, `localhost:8081` or `[::1]:8081`; undefined when malformed. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = ADDRESS.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  const host = match[1] ?? match[2];
  return host ? { host, port } : { port };
}

export function formatListenAddress(address: ListenAddress): string {
  if (!address.host) return `:${address.port}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
