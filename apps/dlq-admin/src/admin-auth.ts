import { createHash, timingSafeEqual } from 'node:crypto';
import type { ConfigProblem, PhilotesSettings } from '@philotes/config';

/**
 * The admin API's start-up rules: a token, or an explicit opt-out that production refuses. An API
 * that replays and discards events must not be open by accident.
 */
export function adminAuthProblems(settings: Pick<PhilotesSettings, 'adminToken' | 'adminAuthDisabled'>, env: NodeJS.ProcessEnv): ConfigProblem[] {
  if (settings.adminAuthDisabled) {
    if (env.NODE_ENV === 'production') {
      return [{ variable: 'PHILOTES_ADMIN_AUTH_DISABLED', value: 'true', rule: 'an admin API without a token is for local use only; refused when NODE_ENV=production — set PHILOTES_ADMIN_TOKEN instead' }];
    }
    return [];
  }
  if (!settings.adminToken) {
    return [{ variable: 'PHILOTES_ADMIN_TOKEN', rule: 'required by dlq-admin (at least 16 characters); for local use without a token set PHILOTES_ADMIN_AUTH_DISABLED=true' }];
  }
  return [];
}

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so neither
 * the comparison nor an early length mismatch tells an attacker how much of a guess was right.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  // The scheme is case-insensitive (RFC 7235 §2.1, which RFC 6750 builds on): `bearer` is Bearer.
  const match = /^bearer +([\x21-\x7e]+)$/i.exec(header ?? '');
  const offered = createHash('sha256').update(match ? match[1] : '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(offered, expected) && match !== null;
}
