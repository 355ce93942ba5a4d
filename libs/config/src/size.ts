const UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Bytes for `512KB`, `64MB`, `1GB` (binary units) or `100B`; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s*(B|KB|MB|GB)$/i.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2].toUpperCase()];
}

/** `256MB`, `1.5GB`, `900B`: a byte count as an operator reads it (binary units, as parseSize). */
export function formatSize(bytes: number): string {
  for (const unit of ['GB', 'MB', 'KB'] as const) {
    const scaled = bytes / UNITS[unit];
    if (scaled >= 1) return `${Number.isInteger(scaled) ? scaled : scaled.toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
}
