/** Rows of one commit at most, whatever the target size: bounds the writer's memory. */
export const MAX_ROWS_PER_COMMIT = 500_000;

/** Parquet (columnar, Snappy) against MessagePack rows: measured about half the bytes. */
export const PARQUET_TO_PAYLOAD = 0.5;

/** Whether buffered events of this many rows and payload bytes fill a commit. */
export function fillsCommit(rows: number, payloadBytes: number, targetFileSize: number): boolean {
  return rows >= MAX_ROWS_PER_COMMIT || payloadBytes * PARQUET_TO_PAYLOAD >= targetFileSize;
}
