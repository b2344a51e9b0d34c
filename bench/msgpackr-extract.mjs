#!/usr/bin/env node
// How much msgpackr's native string extractor (the optional msgpackr-extract addon) speeds up
// decoding the kind of payloads viscose sends between threads, with the Unpackr settings of
// src/codec/msgpack.ts. msgpackr loads the extractor when its module loads unless
// MSGPACKR_NATIVE_ACCELERATION_DISABLED=true, so each setting runs in its own process.
//
//   node bench/msgpackr-extract.mjs            both settings, one child process each
//   node bench/msgpackr-extract.mjs --child    this process only, as its environment says
//
// Prints decoded megabytes per second (median of the rounds) per payload, and whether the
// extractor was active. Under Bun the parent mode works the same; under Deno run --child with
// `deno run -A --node-modules-dir=manual`.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROUNDS = 15;
const ROUND_MS = 200;

if (process.argv.includes('--child')) {
  const { Packr, Unpackr, isNativeAccelerationEnabled } = await import('msgpackr');
  const common = { moreTypes: true, copyBuffers: true };
  const packr = new Packr({ ...common, useRecords: false });
  const unpackr = new Unpackr({ ...common, useRecords: false, mapsAsObjects: true });
  const results = {};
  for (const [name, value] of Object.entries(payloads())) {
    const bytes = packr.pack(value);
    results[name] = { bytes: bytes.length, mbPerSecond: measure(() => unpackr.unpack(bytes), bytes.length) };
  }
  console.log(JSON.stringify({ extractor: isNativeAccelerationEnabled, results }));
} else {
  const script = fileURLToPath(import.meta.url);
  const runs = [
    ['on', {}],
    ['off', { MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' }],
  ].map(([setting, env]) => {
    const output = execFileSync(process.execPath, [script, '--child'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    return { setting, ...JSON.parse(output) };
  });
  console.log(`${runtimeName()}; extractor active: ${runs.map((run) => `${run.setting}=${run.extractor}`).join(', ')}`);
  console.log('payload'.padEnd(28) + 'bytes'.padStart(9) + 'on MB/s'.padStart(10) + 'off MB/s'.padStart(10) + 'on/off'.padStart(8));
  for (const name of Object.keys(runs[0].results)) {
    const [on, off] = runs.map((run) => run.results[name]);
    console.log(
      name.padEnd(28) +
        String(on.bytes).padStart(9) +
        on.mbPerSecond.toFixed(0).padStart(10) +
        off.mbPerSecond.toFixed(0).padStart(10) +
        (on.mbPerSecond / off.mbPerSecond).toFixed(2).padStart(8),
    );
  }
}

function runtimeName() {
  if (process.versions.bun !== undefined) return `Bun ${process.versions.bun}`;
  if (process.versions.deno !== undefined) return `Deno ${process.versions.deno}`;
  return `Node.js ${process.version}`;
}

/** Payloads shaped like task arguments and results: rows of short strings, one long text, numbers. */
function payloads() {
  const rows = (count) =>
    Array.from({ length: count }, (_, i) => ({
      id: i,
      name: `user-${i}`,
      email: `user${i}@example.com`,
      city: ['Lyon', 'Oslo', 'Kyoto'][i % 3],
      active: i % 2 === 0,
    }));
  return {
    'rows x10 (short strings)': rows(10),
    'rows x1000 (short strings)': rows(1000),
    'text 64 KiB (ASCII)': 'lorem ipsum dolor sit amet '.repeat(2428),
    'text 64 KiB (non-ASCII)': 'żółć gęślą jaźń 東京 '.repeat(2500),
    'numbers x10000': Array.from({ length: 10_000 }, (_, i) => i * 1.5),
  };
}

/** Decoded megabytes per second, the median over rounds of about ROUND_MS each. */
function measure(decode, size) {
  for (let i = 0; i < 200; i++) decode(); // warm-up
  const rates = [];
  for (let round = 0; round < ROUNDS; round++) {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      for (let i = 0; i < 20; i++) decode();
      count += 20;
      elapsed = performance.now() - start;
    }
    rates.push((count * size) / 1e6 / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}
