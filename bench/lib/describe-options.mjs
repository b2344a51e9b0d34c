// Turns a pool's resolved options into plain JSON for the report: functions and class instances
// become labels, and file locations become paths relative to the repository.
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/** `options` as JSON-safe values, without the keys in `omit`. */
export function describeOptions(options, omit = []) {
  const described = {};
  for (const [key, value] of Object.entries(options)) {
    if (!omit.includes(key)) described[key] = describeValue(value);
  }
  return described;
}

function describeValue(value) {
  if (typeof value === 'function') return value.name ? `[function ${value.name}]` : '[function]';
  if (typeof value === 'string') return repositoryRelative(value);
  // JSON has no Infinity (piscina's unbounded maxQueue) and would print null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map(describeValue);
  if (value !== null && typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== null && prototype !== Object.prototype) return `[${prototype.constructor.name}]`;
    return describeOptions(value);
  }
  return value ?? null;
}

function repositoryRelative(text) {
  const path = text.startsWith('file:') ? fileURLToPath(text) : text;
  return path.startsWith(REPOSITORY) ? relative(REPOSITORY, path) : text;
}
