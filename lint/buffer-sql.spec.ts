import { Rule, RuleTester } from 'eslint';
// The rule is plain CommonJS: eslint.config.mjs loads the same file.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plugin = require('./buffer-sql.cjs') as { rules: Record<string, Rule.RuleModule> };

const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });

// RuleTester makes one jest test per case (it calls describe/it itself).
describe('lint: buffer SQL belongs in libs/buffer', () => {
  tester.run('buffer-sql', plugin.rules['buffer-sql'], {
    valid: [
      "log('the row in pipeline_controls is the truth')",
      "db.query('SELECT * FROM iceberg_tables WHERE table_name = $1')",
      "db.query('SELECT pg_current_wal_lsn()')",
      'const doc = `cdc_events holds the changes`',
    ],
    invalid: [
      { code: "db.query('SELECT 1 FROM cdc_backfill WHERE table_id = $1')", errors: [{ messageId: 'owned', data: { table: 'cdc_backfill' } }] },
      { code: 'db.query(`DELETE FROM cdc_events WHERE table_id = ${id}`)', errors: [{ messageId: 'owned', data: { table: 'cdc_events' } }] },
      { code: "db.query('INSERT INTO pipeline_controls (source_id) VALUES ($1)')", errors: [{ messageId: 'owned' }] },
      { code: "db.query('update   cdc_writer_progress set applied_bytes = 0')", errors: [{ messageId: 'owned' }] },
      { code: "db.query('ALTER TABLE cdc_events_default SET TABLESPACE t')", errors: [{ messageId: 'owned', data: { table: 'cdc_events_default' } }] },
      { code: "db.query('SELECT 1 FROM a JOIN cdc_tables t ON true')", errors: [{ messageId: 'owned', data: { table: 'cdc_tables' } }] },
    ],
  });
});
