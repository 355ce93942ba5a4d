import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTING_DEFINITIONS } from './load';
import { renderConfigReference, withConfigReference } from './reference';

describe('configuration reference', () => {
  it('lists every setting once, with its default and whether it reloads', () => {
    const table = renderConfigReference();
    for (const definition of SETTING_DEFINITIONS) {
      const rows = table.split('\n').filter((row) => row.startsWith(`| \`${definition.env}\` |`));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toContain(definition.reloadable ? '| yes |' : '| no |');
      if (definition.default) expect(rows[0]).toContain(`\`${definition.default}\``);
      if (definition.default === '') expect(rows[0]).toContain('_(empty)_');
    }
  });

  it('is current in the README (run `npm run docs:config` after changing a setting)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(withConfigReference(readme)).toBe(readme);
  });

  it('marks the reloadable settings the design names', () => {
    const reloadable = SETTING_DEFINITIONS.filter((d) => d.reloadable).map((d) => d.env).sort();
    expect(reloadable).toEqual([
      'PHILOTES_BACKPRESSURE_CHECK_INTERVAL',
      'PHILOTES_BACKPRESSURE_HIGH_BYTES',
      'PHILOTES_BACKPRESSURE_LOW_BYTES',
      'PHILOTES_BACKPRESSURE_STOPPED_TABLE_MAX_BYTES',
      'PHILOTES_CDC_BATCH_SIZE',
      'PHILOTES_CDC_BUFFER_BYTES',
      'PHILOTES_CDC_FLUSH_INTERVAL',
      'PHILOTES_CDC_MAX_EVENT_BYTES',
      'PHILOTES_ICEBERG_COMPACTION_MAX_BYTES',
      'PHILOTES_ICEBERG_COMPACTION_MIN_FILES',
      'PHILOTES_ICEBERG_ORPHAN_GRACE',
      'PHILOTES_ICEBERG_READ_BYTES',
      'PHILOTES_ICEBERG_SNAPSHOT_RETENTION',
      'PHILOTES_ICEBERG_TARGET_FILE_SIZE',
      'PHILOTES_LOG_LEVEL',
      'PHILOTES_RETRY_INITIAL_INTERVAL',
      'PHILOTES_RETRY_JITTER',
      'PHILOTES_RETRY_MAX_ATTEMPTS',
      'PHILOTES_RETRY_MAX_INTERVAL',
      'PHILOTES_RETRY_MULTIPLIER',
    ]);
  });
});
