import { adminAuthProblems, bearerMatches } from './admin-auth';

describe('admin API authentication', () => {
  const token = 'a-long-enough-secret-token';

  it('accepts exactly the configured bearer token', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(0, -1)}`, token)).toBe(false);
    // The scheme in any case, as RFC 6750 (by RFC 7235) allows; the token itself is exact.
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`BEARER  ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token.toUpperCase()}`, token)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', token)).toBe(false);
  });

  it('requires a token unless explicitly disabled, and refuses the opt-out in production', () => {
    expect(adminAuthProblems({ adminToken: token, adminAuthDisabled: false }, {})).toEqual([]);
    expect(adminAuthProblems({ adminAuthDisabled: false }, {}).map((p) => p.variable)).toEqual(['PHILOTES_ADMIN_TOKEN']);
    expect(adminAuthProblems({ adminAuthDisabled: true }, { NODE_ENV: 'development' })).toEqual([]);
    const refused = adminAuthProblems({ adminAuthDisabled: true }, { NODE_ENV: 'production' });
    expect(refused.map((p) => p.variable)).toEqual(['PHILOTES_ADMIN_AUTH_DISABLED']);
    expect(refused[0].rule).toMatch(/production/);
  });
});
