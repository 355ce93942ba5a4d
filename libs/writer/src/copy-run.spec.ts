import { DecodedEvent, COPY_MARKER_SEQ, copyRowSeq, StoredEvent } from '@philotes/buffer';
import { DataFile, FileContent } from '@philotes/iceberg';
import { AssembledBatch, column, planLayout, TableMode } from '@philotes/table-mapping';
import { CopyChangedError, foldCopyRun, isCopyStart } from './copy-run';

const COLUMNS = [column('id', 'int4', { key: true, primaryKey: true }), column('doc', 'text')];
const layoutFor = (mode: TableMode) => planLayout({ table: 'public.t', columns: COLUMNS, mode, lastColumnId: 0, asText: new Set(), unrepresentable: 'reject' });
const LSN = 0x5000n;
const PAYLOAD = 1_100; // bytes each stored change claims: two fill a 1 kB target (Parquet is estimated at half)

/** Stored events with their decoded form kept beside them (the run decodes through deps.decode). */
function events(ops: Array<['T' | 'R' | 'I', number]>): { stored: StoredEvent[]; decoded: Map<StoredEvent, DecodedEvent> } {
  const decoded = new Map<StoredEvent, DecodedEvent>();
  const stored = ops.map(([op, n]) => {
    const position = op === 'T' ? { lsn: LSN, seq: COPY_MARKER_SEQ } : op === 'R' ? { lsn: LSN, seq: copyRowSeq(n) } : { lsn: LSN + 1n, seq: n };
    const event: StoredEvent = { position, op, xid: null, commitTime: 1n, schemaVersion: 1, payload: Buffer.alloc(op === 'T' ? 10 : PAYLOAD), columns: COLUMNS };
    decoded.set(event, { ...event, beforeIsKeyOnly: false, ...(op === 'T' ? {} : { after: [n, `row ${n}`] }) });
    return event;
  });
  return { stored, decoded };
}

async function fold(mode: TableMode, ops: Array<['T' | 'R' | 'I', number]>, pageSize: number, targetFileSize: number, replannedAt?: number) {
  const { stored: original, decoded } = events(ops);
  // A copy planned again at the same position: from `replannedAt` on, rows of the new one (another commit time).
  const stored = original.map((event, i) => (replannedAt !== undefined && i >= replannedAt ? { ...event, commitTime: 2n } : event));
  stored.forEach((event, i) => decoded.set(event, { ...decoded.get(original[i])!, commitTime: event.commitTime }));
  const written: AssembledBatch[] = [];
  const pages = (after?: StoredEvent) => {
    const from = after ? stored.indexOf(after) + 1 : 0;
    return stored.slice(from, from + pageSize);
  };
  const run = await foldCopyRun(pages(), layoutFor(mode), {
    next: async (after) => pages(after),
    decode: (event) => decoded.get(event)!,
    writeFile: async (batch) => {
      written.push(batch);
      return [{ content: FileContent.Data, filePath: `f${written.length}`, fileSizeInBytes: 1, recordCount: batch.rows.length } as DataFile];
    },
    targetFileSize,
    skipPoison: false,
    table: 'public.t',
  });
  return { run, written };
}

const copyOf = (rows: number): Array<['T' | 'R', number]> => [['T', 0], ...Array.from({ length: rows }, (_, n): ['R', number] => ['R', n])];

describe('foldCopyRun', () => {
  it('recognises the opening TRUNCATE of a copy, and only it', () => {
    const { stored } = events([['T', 0], ['R', 0], ['I', 1]]);
    expect(stored.map(isCopyStart)).toEqual([true, false, false]);
    expect(isCopyStart({ op: 'T', position: { lsn: LSN, seq: 0 } })).toBe(false);
  });

  it('folds a copy across pages and files into one commit that replaces an upsert table', async () => {
    const { run, written } = await fold('upsert', copyOf(7), 3, 1024);
    expect(written.map((batch) => batch.rows.map((row) => row[0]))).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    expect(run.files.map((file) => file.filePath)).toEqual(['f1', 'f2', 'f3', 'f4']);
    expect(run.batch).toMatchObject({ truncated: true, rows: [], deletes: [], count: 8, last: { lsn: LSN, seq: copyRowSeq(6) } });
    expect(run.more).toBe(false);
  });

  it('stops at the first event after the copy, which the next commit applies', async () => {
    const { run } = await fold('upsert', [...copyOf(3), ['I', 10], ['I', 11]], 2, 64 * 1024 ** 2);
    expect(run.batch.last).toEqual({ lsn: LSN, seq: copyRowSeq(2) });
    expect(run.batch.count).toBe(4);
    expect(run.more).toBe(true);
  });

  it('refuses a run whose rows belong to two copies planned at the same position', async () => {
    await expect(fold('upsert', copyOf(5), 2, 64 * 1024 ** 2, 3)).rejects.toThrow(CopyChangedError);
  });

  it('empties an upsert table for a copy of no rows, and logs the TRUNCATE of an append table', async () => {
    const empty = await fold('upsert', copyOf(0), 10, 1024);
    expect(empty.run.files).toEqual([]);
    expect(empty.run.batch.truncated).toBe(true);
    const log = await fold('append', copyOf(2), 10, 64 * 1024 ** 2);
    expect(log.run.batch.truncated).toBe(false);
    expect(log.written).toHaveLength(1);
    expect(log.written[0].rows.map((row) => row[2])).toEqual(['T', 'R', 'R']);
  });
});
