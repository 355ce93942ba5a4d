/**
 * PostgreSQL's array text form: `{1,2,NULL}`, `{"a b","c\"d"}`, nested `{{1,2},{3,4}}`, and an
 * optional bounds prefix `[0:1]={...}` (dropped: Iceberg lists start at 0). Elements come back as
 * text (or null) for the element type's parser.
 */
export type ArrayText = Array<string | null | ArrayText>;

export function parseArrayText(text: string, delimiter = ','): ArrayText {
  let position = 0;
  if (text.startsWith('[')) {
    const equals = text.indexOf('=');
    if (equals < 0) throw new Error('array bounds without "="');
    position = equals + 1;
  }

  const parseLevel = (): ArrayText => {
    if (text[position] !== '{') throw new Error(`expected "{" at ${position}`);
    position++;
    const items: ArrayText = [];
    if (text[position] === '}') {
      position++;
      return items;
    }
    for (;;) {
      const ch = text[position];
      if (ch === '{') items.push(parseLevel());
      else if (ch === '"') items.push(parseQuoted());
      else items.push(parseBare());
      const next = text[position++];
      if (next === '}') return items;
      if (next !== delimiter) throw new Error(`expected "${delimiter}" or "}" at ${position - 1}`);
    }
  };

  const parseQuoted = (): string => {
    position++;
    let value = '';
    for (;;) {
      const ch = text[position++];
      if (ch === undefined) throw new Error('unterminated quoted element');
      if (ch === '"') return value;
      value += ch === '\\' ? text[position++] : ch;
    }
  };

  const parseBare = (): string | null => {
    const start = position;
    while (position < text.length && text[position] !== delimiter && text[position] !== '}') position++;
    const value = text.slice(start, position).trim();
    return value.toUpperCase() === 'NULL' ? null : value;
  };

  const result = parseLevel();
  if (position !== text.length) throw new Error(`unexpected text after the array at ${position}`);
  return result;
}
