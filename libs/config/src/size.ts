const UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Bytes for `512KB`, `64MB`, `1GB` (binary units) or `100B`; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)\s*(B|KB|MB|GB)$/i.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2].toUpperCase()];
}
