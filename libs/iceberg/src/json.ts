/**
 * JSON for table metadata without losing 64-bit integers. Philotes makes 53-bit snapshot ids, but
 * tables also get snapshots from Java engines (63-bit ids, e.g. after Spark maintenance), and
 * JSON.parse would round those and corrupt the refs.
 */
export function parseIcebergJson(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`metadata JSON: ${what} at ${at}`);
  };
  const space = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const value = (): unknown => {
    space();
    const ch = text[at];
    if (ch === '{') {
      at++;
      const object: Record<string, unknown> = {};
      space();
      if (text[at] === '}') return at++, object;
      for (;;) {
        space();
        const key = string();
        space();
        if (text[at++] !== ':') fail('expected ":"');
        object[key] = value();
        space();
        const next = text[at++];
        if (next === '}') return object;
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (ch === '[') {
      at++;
      const array: unknown[] = [];
      space();
      if (text[at] === ']') return at++, array;
      for (;;) {
        array.push(value());
        space();
        const next = text[at++];
        if (next === ']') return array;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (ch === '"') return string();
    if (text.startsWith('true', at)) return (at += 4), true;
    if (text.startsWith('false', at)) return (at += 5), false;
    if (text.startsWith('null', at)) return (at += 4), null;
    return number();
  };
  const string = (): string => {
    if (text[at] !== '"') fail('expected a string');
    const start = at;
    at++;
    while (text[at] !== '"') {
      if (at >= text.length) fail('unterminated string');
      at += text[at] === '\\' ? 2 : 1;
    }
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const number = (): number | bigint => {
    const match = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at, at + 40));
    if (!match) fail('unexpected character');
    at += match![0].length;
    const literal = match![0];
    if (match![1] === undefined && match![2] === undefined) {
      const integer = BigInt(literal);
      return integer >= BigInt(Number.MIN_SAFE_INTEGER) && integer <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(literal) : integer;
    }
    return Number(literal);
  };
  const result = value();
  space();
  if (at !== text.length) fail('trailing characters');
  return result;
}

/** JSON.stringify that writes bigints as bare integers (pretty-printed, as Java engines write it). */
export function stringifyIcebergJson(value: unknown): string {
  const marker = '\u0000bigint:';
  const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v.toString()}` : v), 2);
  return json.replace(new RegExp(`"${marker}(-?\\d+)"`, 'g'), '$1');
}
