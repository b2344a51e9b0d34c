// A horizontal bar chart in SVG: one bar per contender at its median, a whisker from the minimum
// to the maximum over rounds, the value written beside it. One chart per workload column. With a
// logarithmic axis when the values span more than two decades (the main thread's rates next to
// the pools'), since a linear one would flatten every pool to nothing.
import { escapeXml, svgOpening } from './svg.mjs';

const ROW = 26;
const RIGHT = 110;
const TOP = 44;
const PLOT_WIDTH = 480;
/** Width of a character of the 12 px labels, roughly, to leave room for the longest one. */
const CHARACTER = 6.6;

/** `bars`: [{ name, median, min, max, highlight? }]; `better`: 'higher' or 'lower'. */
export function barChart({ title, unit, better, bars }) {
  const values = bars.flatMap((bar) => [bar.min, bar.max, bar.median]).filter((value) => value > 0);
  const max = Math.max(...values);
  const min = Math.min(...values);
  const logarithmic = max / min > 100;
  const LEFT = Math.max(170, Math.ceil(Math.max(...bars.map((bar) => bar.name.length)) * CHARACTER) + 16);
  const plotWidth = PLOT_WIDTH;
  const WIDTH = LEFT + plotWidth + RIGHT;
  const floor = logarithmic ? 10 ** Math.floor(Math.log10(min)) : 0;
  const top = logarithmic ? 10 ** Math.ceil(Math.log10(max)) : max * 1.05;
  const x = (value) =>
    LEFT +
    (logarithmic ? (Math.log10(Math.max(value, floor)) - Math.log10(floor)) / (Math.log10(top) - Math.log10(floor)) : value / top) *
      plotWidth;
  const height = TOP + bars.length * ROW + 30;
  const parts = [
    ...svgOpening(WIDTH, height, title),
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<text x="${WIDTH / 2}" y="34" text-anchor="middle" fill="#555">${escapeXml(`${unit}, ${better} is better; median of the rounds, whiskers min–max${logarithmic ? '; logarithmic axis' : ''}`)}</text>`,
  ];
  bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    const colour = bar.highlight ? '#d62728' : '#1f77b4';
    parts.push(
      `<text x="${LEFT - 8}" y="${y + 16}" text-anchor="end">${escapeXml(bar.name)}</text>`,
      `<rect x="${LEFT}" y="${y + 4}" width="${Math.max(1, x(bar.median) - LEFT).toFixed(1)}" height="${ROW - 10}" fill="${colour}" opacity="0.8"/>`,
      `<line x1="${x(bar.min).toFixed(1)}" x2="${x(bar.max).toFixed(1)}" y1="${y + ROW / 2}" y2="${y + ROW / 2}" stroke="#222"/>`,
      `<text x="${(x(bar.max) + 6).toFixed(1)}" y="${y + 16}">${escapeXml(format(bar.median))}</text>`,
    );
  });
  const axisY = TOP + bars.length * ROW + 4;
  parts.push(`<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${axisY}" y2="${axisY}" stroke="#888"/>`);
  for (const tick of ticks(floor, top, logarithmic)) {
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${escapeXml(format(tick))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function ticks(floor, top, logarithmic) {
  if (logarithmic) {
    const out = [];
    for (let value = floor; value <= top; value *= 10) out.push(value);
    return out;
  }
  return [0, 0.25, 0.5, 0.75, 1].map((share) => share * top);
}

function format(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 100) return String(Math.round(value));
  return value >= 1 ? value.toFixed(1) : value.toPrecision(2);
}
