import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ports 20000–31999, below Linux's ephemeral range (32768–60999). */
const FIRST = 20_000;
const COUNT = 12_000;
/** One file per port handed out, naming the process that holds it: other test runs skip it. */
const RESERVED = join(tmpdir(), 'philotes-test-ports');
let next = Math.floor(Math.random() * COUNT);

/**
 * A port free now that no other test process on this machine was handed. The OS's choice (bind to
 * 0, then close) can hand two processes the same port between one's probe and its app's bind: the
 * second app then fails to listen, or a test polls another test's app and takes its answers for
 * its own. So each port is reserved in a file (taken over once its process is gone) and probed.
 */
export async function testPort(): Promise<number> {
  mkdirSync(RESERVED, { recursive: true });
  for (let tried = 0; tried < COUNT; tried++) {
    const port = FIRST + (next++ % COUNT);
    if (reserve(port) && (await bindable(port))) return port;
  }
  throw new Error(`no free test port in ${FIRST}–${FIRST + COUNT - 1}`);
}

function reserve(port: number): boolean {
  const file = join(RESERVED, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const text = readFileSync(file, 'utf8');
      const holder = Number(text);
      // Empty: its holder has just created it and not yet written its pid.
      if (text === '' || holder === process.pid || alive(holder)) return false;
      try {
        unlinkSync(file); // its process is gone: the port is free to hand out again
      } catch {
        return false; // another process took it over first
      }
    }
  }
  return false;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
