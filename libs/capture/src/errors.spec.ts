import { sourceVersionProblem } from './errors';

describe('the oldest source the reader takes', () => {
  it('takes PostgreSQL 13 and later', () => {
    for (const version of [130_000, 130_016, 150_004, 170_010, 180_000]) expect(sourceVersionProblem(version)).toBeUndefined();
  });

  it('names the version and what it lacks below 13, in both numbering schemes', () => {
    expect(sourceVersionProblem(120_017)).toBe(
      'the source runs PostgreSQL 12 (server_version_num 120017); the reader needs PostgreSQL 13 or later (publish_via_partition_root, pg_replication_slots.safe_wal_size)',
    );
    expect(sourceVersionProblem(90_624)).toContain('PostgreSQL 9.6 (server_version_num 90624)');
  });
});
