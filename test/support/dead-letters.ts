import { ColumnSchema, createEncoder, encodePayload, PgNumeric } from '@philotes/events';
import { query } from './database';

export const DEAD_LETTER_COLUMNS: ColumnSchema[] = [
  { name: 'id', typeOid: 20, typeModifier: -1, typeName: 'int8', kind: 'int8', key: true, primaryKey: true },
  { name: 'amount', typeOid: 1700, typeModifier: (10 << 16) + 2 + 4, typeName: 'numeric', kind: 'numeric', key: false },
  { name: 'note', typeOid: 25, typeModifier: -1, typeName: 'text', kind: 'text', key: false },
];


/** Dead letters written the way the writer writes them, for the API to serve. Returns their ids, oldest first. */
export async function seedDeadLetters(url: string, table: string, count: number, errorKind = 'poison'): Promise<string[]> {
  const [{ table_id }] = await query<{ table_id: number }>(
    url,
    `INSERT INTO cdc_tables (source_id, schema_name, table_name) VALUES ('shop', 'public', $1)
     ON CONFLICT (source_id, schema_name, table_name) DO UPDATE SET table_name = EXCLUDED.table_name RETURNING table_id`,
    [table],
  );
  await query(url, `INSERT INTO cdc_schema_history (table_id, version, relation_oid, replica_identity, columns, first_lsn) VALUES ($1, 1, 1, 'd', $2, '0/1') ON CONFLICT DO NOTHING`, [
    table_id,
    JSON.stringify(DEAD_LETTER_COLUMNS),
  ]);
  const encoder = createEncoder();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.from(encodePayload(encoder, { after: [9_007_199_254_740_993n + BigInt(i), new PgNumeric('NaN'), `row ${i}`] }, DEAD_LETTER_COLUMNS.map((c) => c.kind)));
    const [{ id }] = await query<{ id: string }>(
      url,
      `INSERT INTO cdc_dead_letters (table_id, commit_lsn, seq, op, xid, commit_ts, schema_version, payload, error_kind, error_message, attempts, history)
       VALUES ($1, $2::pg_lsn, $3, 'I', 700, '2026-11-20 10:00:00.123456+00', 1, $4, $5, 'amount: NaN cannot be written to decimal(10,2)', 3,
               '[{"event":"failed"}]') RETURNING id::text`,
      [table_id, `0/${(0x1000 + i).toString(16)}`, i, payload, errorKind],
    );
    ids.push(id);
  }
  return ids;
}
