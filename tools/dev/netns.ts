import { execFileSync } from 'node:child_process';

let made = 0;

/**
 * A host of a test's (or a chaos run's) own: a network namespace joined to this machine by a veth pair, each end
 * with an address of a /30. A process started in it (AppProcess.start with `netns`) reaches this
 * machine only at `hostAddress`, over the pair; `cut` takes its end down, so its packets go
 * nowhere and nothing it has open is closed — a node that vanished, which SIGKILL is not (the
 * kernel closes a killed process's sockets cleanly). Needs root (CAP_NET_ADMIN).
 */
export class IsolatedHost {
  private constructor(
    readonly netns: string,
    private readonly hostSide: string,
    private readonly peerSide: string,
    readonly hostAddress: string,
    readonly peerAddress: string,
  ) {}

  static create(): IsolatedHost {
    const id = `${process.pid % 10_000}x${made++}`;
    // A /30 of 10.231.0.0/16 chosen by the process and a counter: concurrent test runs stay apart.
    const block = ((process.pid % 4_000) * 4 + made * 4) % 65_536;
    const address = (offset: number) => `10.231.${Math.floor((block + offset) / 256)}.${(block + offset) % 256}`;
    const host = new IsolatedHost(`phn${id}`, `phh${id}`, `php${id}`, address(1), address(2));
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
    ip('netns', 'add', host.netns);
    try {
      ip('link', 'add', host.hostSide, 'type', 'veth', 'peer', 'name', host.peerSide);
      ip('link', 'set', host.peerSide, 'netns', host.netns);
      ip('addr', 'add', `${host.hostAddress}/30`, 'dev', host.hostSide);
      ip('link', 'set', host.hostSide, 'up');
      ip('netns', 'exec', host.netns, 'ip', 'addr', 'add', `${host.peerAddress}/30`, 'dev', host.peerSide);
      ip('netns', 'exec', host.netns, 'ip', 'link', 'set', host.peerSide, 'up');
      ip('netns', 'exec', host.netns, 'ip', 'link', 'set', 'lo', 'up');
    } catch (error) {
      host.destroy();
      throw error;
    }
    return host;
  }

  /** The host drops off the network: its link goes down; its processes and sockets stay as they are. */
  cut(): void {
    execFileSync('ip', ['netns', 'exec', this.netns, 'ip', 'link', 'set', this.peerSide, 'down'], { stdio: 'pipe' });
  }

  /** Back on the network (after the processes cut off were stopped). */
  restore(): void {
    execFileSync('ip', ['netns', 'exec', this.netns, 'ip', 'link', 'set', this.peerSide, 'up'], { stdio: 'pipe' });
  }

  destroy(): void {
    for (const args of [['link', 'del', this.hostSide], ['netns', 'del', this.netns]]) {
      try {
        execFileSync('ip', args, { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
  }
}
