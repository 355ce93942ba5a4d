// The buffer database is the bus between the apps; libs/buffer owns its schema. A string that reads
// or writes one of its tables anywhere else is a second owner, so this rule refuses it. The Iceberg
// catalog's own tables (iceberg_*) belong to libs/iceberg and are not buffer tables.
// Tests are exempt on purpose: they observe the buffer independently of the code under test.

const BUFFER_TABLE =
  /\b(cdc_backfill|cdc_checkpoints|cdc_dead_letters|cdc_events(?:_default|_p\w*)?|cdc_schema_history|cdc_table_failures|cdc_table_volume|cdc_tables|cdc_writer_progress|pipeline_controls|pipeline_instances|pipeline_transitions)\b/;

// A buffer table named right after an SQL verb or clause: prose in log lines stays allowed.
const SQL_USE = new RegExp(
  String.raw`\b(from|into|update|join|table|truncate|on|lock|analyze|vacuum|exists)\s+(only\s+)?` + BUFFER_TABLE.source,
  'i',
);

const text = (node) =>
  node.type === 'Literal' && typeof node.value === 'string'
    ? node.value
    : node.type === 'TemplateLiteral'
      ? node.quasis.map((quasi) => quasi.value.cooked ?? quasi.value.raw).join(' ')
      : null;

const bufferSql = {
  meta: {
    type: 'problem',
    docs: { description: 'SQL against buffer tables belongs in libs/buffer' },
    messages: {
      owned: 'SQL against the buffer table {{table}} belongs in libs/buffer (one repository per table).',
    },
    schema: [],
  },
  create(context) {
    const check = (node) => {
      const sql = text(node);
      const match = sql && SQL_USE.exec(sql);
      if (match) context.report({ node, messageId: 'owned', data: { table: match[3] } });
    };
    return { Literal: check, TemplateLiteral: check };
  },
};

module.exports = { BUFFER_TABLE, rules: { 'buffer-sql': bufferSql } };
