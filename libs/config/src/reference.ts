import { SETTING_DEFINITIONS } from './load';

/**
 * The README's configuration table, generated from the settings class so the two cannot drift
 * (a unit test compares them; `npm run docs:config` rewrites the README section).
 */
export function renderConfigReference(): string {
  const rows = SETTING_DEFINITIONS.map((d) => {
    const fallback = d.default === undefined ? '_(unset)_' : d.default === '' ? '_(empty)_' : `\`${d.default}\``;
    const reload = d.reloadable ? 'yes' : 'no';
    return `| \`${d.env}\` | ${fallback} | ${reload} | ${d.doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| Variable | Default | Reloads | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** The README text with its generated section replaced by the current table. */
export function withConfigReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`README lacks the ${REFERENCE_START} … ${REFERENCE_END} markers`);
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${renderConfigReference()}\n${readme.slice(end)}`;
}
