// A/B of two builds of viscose, side by side: `node bench/ab/ab.mjs <distA> <distB> [pairs]`.
// Each dist is a built `dist/index.js` (e.g. of a `git worktree` at another commit). Every
// measurement runs in a fresh child process; the two builds alternate, which one goes first
// alternating too, so that drift of the machine falls on both. Reports, per measurement, the
// median over pairs of B / A and the spread of the pair ratios: on a noisy VM only the paired ratio
// means something.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [givenA, givenB, pairsArg] = process.argv.slice(2);
if (givenA === undefined || givenB === undefined) {
  console.error('usage: node bench/ab/ab.mjs <distA/index.js> <distB/index.js> [pairs]');
  process.exit(2);
}
// The child imports them: as URLs of absolute paths, whatever directory they were named from.
const [distA, distB] = [givenA, givenB].map((path) => pathToFileURL(resolve(path)).href);
const pairs = Number(pairsArg ?? 8);
const child = fileURLToPath(new URL('./ab-child.mjs', import.meta.url));
const measure = (dist) => JSON.parse(execFileSync(process.execPath, [child, dist], { encoding: 'utf8' }));

const ratios = {};
for (let pair = 0; pair < pairs; pair++) {
  const [first, second] = pair % 2 === 0 ? [distA, distB] : [distB, distA];
  const results = { [first]: measure(first), [second]: measure(second) };
  for (const key of Object.keys(results[distA])) {
    ratios[key] ??= [];
    ratios[key].push(results[distB][key] / results[distA][key]);
  }
}
for (const [key, values] of Object.entries(ratios)) {
  values.sort((x, y) => x - y);
  const median = values[Math.floor(values.length / 2)];
  console.log(`${key}: B / A median ${median.toFixed(3)} over ${pairs} pairs (${values.map((v) => v.toFixed(2)).join(', ')})`);
}
