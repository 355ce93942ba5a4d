import { createServer } from 'node:net';

/** Ports 20000–31999, below Linux's ephemeral range (32768–60999), 1500 per jest worker. */
const FIRST = 20_000;
const PER_WORKER = 1_500;
const WORKER = (Number(process.env.JEST_WORKER_ID ?? '1') - 1) % 8;
let next = Math.floor(Math.random() * PER_WORKER);

/**
 * A port free now, from a range no other jest worker uses. The OS's choice (bind to 0, then close)
 * can hand two workers the same port between one's probe and its app's bind: the second app then
 * fails to listen, or a test polls the other worker's app and takes its answers for its own.
 */
export async function testPort(): Promise<number> {
  for (let tried = 0; tried < PER_WORKER; tried++) {
    const port = FIRST + WORKER * PER_WORKER + (next++ % PER_WORKER);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in this jest worker's range (${FIRST + WORKER * PER_WORKER}+${PER_WORKER})`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
