import { ChartInput, compactNumber, escapeXml, niceTicks, renderChart } from './chart';

// Pure: the chart is text; these check its arithmetic and structure, not pixels.

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten, up past the maximum', () => {
    expect(niceTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(52_000)).toEqual([0, 20_000, 40_000, 60_000]);
    expect(niceTicks(7.3)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0.42)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it('has an axis even with nothing to show', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(NaN)).toEqual([0, 1]);
  });
});

describe('compactNumber', () => {
  it('writes thousands as k and millions as M, three significant digits', () => {
    expect(compactNumber(950)).toBe('950');
    expect(compactNumber(52_300)).toBe('52.3k');
    expect(compactNumber(50_000)).toBe('50k');
    expect(compactNumber(1_250_000)).toBe('1.25M');
    expect(compactNumber(0.5)).toBe('0.5');
  });
});

describe('renderChart', () => {
  const input: ChartInput = {
    title: 'Rows & <freshness>',
    x: [0, 1, 2, 3, 4],
    xLabel: 'seconds',
    phases: [{ label: 'phase "one"', from: 0, to: 2 }],
    panels: [
      { title: 'rows/s', unit: compactNumber, series: [{ label: 'visible', color: '#2ca02c', values: [0, 10_000, 20_000, 30_000, 40_000] }], target: { label: 'target', value: 50_000 } },
      { title: 'freshness', unit: (v) => `${v} s`, series: [{ label: 'p99', color: '#ff7f0e', values: [1, undefined, 2, 3, undefined] }] },
    ],
  };
  const svg = renderChart(input);

  it('is one SVG document with escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Rows &amp; &lt;freshness&gt;');
    expect(svg).toContain('phase &quot;one&quot;');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('draws a line per run of defined values, and the target', () => {
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(lines).toEqual([5, 1, 2]);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('>60k<'); // the first panel's axis reaches above the target
  });

  it('puts larger values higher, on the panel', () => {
    const [first] = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1].split(' ').map((p) => Number(p.split(',')[1])));
    for (let i = 1; i < first.length; i++) expect(first[i]).toBeLessThan(first[i - 1]);
  });

  it('escapes what XML reserves', () => {
    expect(escapeXml(`a<b>&"c"`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
  });
});
