/**
 * A two-panel line chart as SVG text, written by hand: a chart library would be a dependency for
 * one picture. Both panels share the time axis; shaded spans mark the benchmark's phases and dashed
 * lines its targets.
 */

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  /** One value per x; undefined leaves a gap. */
  readonly values: ReadonlyArray<number | undefined>;
}

export interface ChartPanel {
  readonly title: string;
  readonly unit: (value: number) => string;
  readonly series: readonly ChartSeries[];
  readonly target?: { readonly label: string; readonly value: number };
}

export interface ChartInput {
  readonly title: string;
  /** The shared x values (seconds since the start). */
  readonly x: readonly number[];
  readonly xLabel: string;
  readonly phases: ReadonlyArray<{ readonly label: string; readonly from: number; readonly to: number }>;
  readonly panels: readonly [ChartPanel, ChartPanel];
}

const WIDTH = 960;
const LEFT = 80;
const RIGHT = 24;
const PANEL_HEIGHT = 210;
const PANEL_GAP = 78;
const TOP = 64;
const BOTTOM = 52;

/** Ticks at 1, 2 or 5 × 10^k covering 0..max, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** 950 → "950", 52 300 → "52k", 1 250 000 → "1.25M". */
export function compactNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return `${Number(value.toPrecision(3))}`;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fixed = (n: number) => Number(n.toFixed(1));

export function renderChart(input: ChartInput): string {
  const height = TOP + 2 * PANEL_HEIGHT + PANEL_GAP + BOTTOM;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const xMax = Math.max(1, ...input.x);
  const xTicks = niceTicks(xMax, 10).filter((t) => t <= xMax);
  const sx = (x: number) => fixed(LEFT + (x / xMax) * plotWidth);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(input.title)}</text>`,
  ];
  input.panels.forEach((panel, index) => {
    const top = TOP + index * (PANEL_HEIGHT + PANEL_GAP);
    const bottom = top + PANEL_HEIGHT;
    const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
    const yTicks = niceTicks(Math.max(...values, panel.target?.value ?? 0, 0) * 1.05);
    const yMax = yTicks[yTicks.length - 1];
    const sy = (y: number) => fixed(bottom - (Math.min(y, yMax) / yMax) * PANEL_HEIGHT);
    parts.push(`<text x="${LEFT}" y="${top - 10}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    for (const phase of input.phases) {
      parts.push(`<rect x="${sx(phase.from)}" y="${top}" width="${fixed(sx(phase.to) - sx(phase.from))}" height="${PANEL_HEIGHT}" fill="#f2f2f2"/>`);
      if (index === 0) parts.push(`<text x="${fixed((sx(phase.from) + sx(phase.to)) / 2)}" y="${top + 14}" text-anchor="middle" fill="#666666">${escapeXml(phase.label)}</text>`);
    }
    for (const tick of yTicks) {
      parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${sy(tick)}" y2="${sy(tick)}" stroke="#dddddd"/>`);
      parts.push(`<text x="${LEFT - 6}" y="${fixed(sy(tick) + 4)}" text-anchor="end">${escapeXml(panel.unit(tick))}</text>`);
    }
    for (const tick of xTicks) {
      parts.push(`<line x1="${sx(tick)}" x2="${sx(tick)}" y1="${bottom}" y2="${bottom + 4}" stroke="#333333"/>`);
      parts.push(`<text x="${sx(tick)}" y="${bottom + 17}" text-anchor="middle">${tick}</text>`);
    }
    parts.push(`<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#333333"/>`);
    if (panel.target) {
      parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${sy(panel.target.value)}" y2="${sy(panel.target.value)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
      parts.push(`<text x="${WIDTH - RIGHT - 4}" y="${fixed(sy(panel.target.value) - 5)}" text-anchor="end" fill="#d62728">${escapeXml(panel.target.label)}</text>`);
    }
    for (const series of panel.series) {
      for (const run of segments(series.values)) {
        const points = run.map(([i, v]) => `${sx(input.x[i])},${sy(v)}`).join(' ');
        parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="1.8" points="${points}"/>`);
      }
    }
    let legendX = LEFT + 8;
    for (const series of panel.series) {
      const y = bottom + 36;
      parts.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${series.color}" stroke-width="3"/>`);
      parts.push(`<text x="${legendX + 24}" y="${y}">${escapeXml(series.label)}</text>`);
      legendX += 34 + series.label.length * 6.6;
    }
  });
  parts.push(`<text x="${WIDTH - RIGHT}" y="${height - 6}" text-anchor="end" fill="#333333">${escapeXml(input.xLabel)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Runs of consecutive defined values, each with its index. */
function segments(values: ReadonlyArray<number | undefined>): Array<Array<[number, number]>> {
  const runs: Array<Array<[number, number]>> = [];
  let current: Array<[number, number]> = [];
  values.forEach((value, i) => {
    if (value === undefined || !Number.isFinite(value)) {
      if (current.length > 0) runs.push(current);
      current = [];
    } else current.push([i, value]);
  });
  if (current.length > 0) runs.push(current);
  return runs;
}
