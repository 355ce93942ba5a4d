import { deadPeerConfig } from './dead-peer';

describe('dead peer detection', () => {
  it('asks the server to drop a silent peer within the timeout: probes after a third, three more half a third apart', () => {
    expect(deadPeerConfig(30_000)).toEqual({
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3 -c tcp_user_timeout=30000',
    });
  });

  it('keeps the options a connection already sends, and never asks for less than a second', () => {
    expect(deadPeerConfig(2_000, '-c DateStyle=ISO').options).toBe('-c DateStyle=ISO -c tcp_keepalives_idle=1 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3 -c tcp_user_timeout=2000');
  });

  it('sends nothing extra when turned off (a pooler that refuses startup options)', () => {
    expect(deadPeerConfig(0)).toEqual({ keepAlive: true });
    expect(deadPeerConfig(0, '-c x=1')).toEqual({ keepAlive: true, options: '-c x=1' });
  });
});
