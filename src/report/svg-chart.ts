// A small line chart as a standalone SVG: epochs on x, one polyline per series.

export interface Series { name: string; values: number[]; color: string }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function lineChart(title: string, series: Series[], yLabel: string, width = 560, height = 320): string {
  const m = { left: 56, right: 16, top: 36, bottom: 44 };
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(1, ...series.map((s) => s.values.length));
  let lo = Math.min(0, ...all), hi = Math.max(...all, 1e-9);
  if (yLabel === 'accuracy') { lo = 0; hi = 1; }
  const x = (i: number) => m.left + (n === 1 ? 0 : (i / (n - 1)) * (width - m.left - m.right));
  const y = (v: number) => m.top + (1 - (v - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (const t of niceTicks(lo, hi)) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(1, n, Math.min(10, n))) {
    if (!Number.isInteger(t)) continue;
    parts.push(`<text x="${x(t - 1).toFixed(1)}" y="${height - m.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" text-anchor="middle">epoch</text>`);
  parts.push(`<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  // Accuracy curves end near the top: their legend goes to the bottom right.
  const legendTop = yLabel === 'accuracy' ? height - m.bottom - 12 - 18 * series.length : m.top + 4;
  for (const [k, s] of series.entries()) {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : '')).filter(Boolean).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    parts.push(`<rect x="${width - m.right - 120}" y="${legendTop + 18 * k}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${width - m.right - 102}" y="${legendTop + 5 + 18 * k}">${esc(s.name)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
