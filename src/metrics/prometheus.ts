/**
 * The Prometheus text exposition format (version 0.0.4): metric families with HELP and TYPE lines,
 * samples with escaped label values. Rendering only; the pool and the processor say what to render.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  /** Appended to the family's name: `_sum`, `_count`, or nothing. */
  suffix?: string;
  labels?: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  samples: Sample[];
}

export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(`${family.name}${sample.suffix ?? ''}${renderLabels(sample.labels)} ${renderValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The samples of a summary from quantiles already computed, its sum and its count. */
export function summarySamples(quantiles: [quantile: number, value: number][], sum: number, count: number, labels: Labels = {}): Sample[] {
  return [
    ...quantiles.map(([quantile, value]) => ({ labels: { ...labels, quantile: String(quantile) }, value })),
    { suffix: '_sum', labels, value: sum },
    { suffix: '_count', labels, value: count },
  ];
}

function renderLabels(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(',')}}`;
}

function renderValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
