// The Rayon reference: builds bench/rayon/ (Rust, against Debian's librust-rayon-dev, offline) and
// runs it: workloads C, D (calibrated 2 ms CPU tasks, even and skewed), E (fib with join), F
// (quicksort with join) and G (parallel sum and map), on a Rayon pool of 2 threads against the
// same code run sequentially. `node bench/rayon.mjs [--quick]`; writes bench/results/rayon.json
// (rayon-quick.json for --quick). Without cargo or the Debian crates it prints why and writes a
// record that says so, so that the rest of the benchmark still runs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CRATE = fileURLToPath(new URL('./rayon/', import.meta.url));
const REGISTRY = '/usr/share/cargo/registry';
const RESULTS = new URL('./results/', import.meta.url);

const profile = process.argv.includes('--quick') ? 'quick' : 'full';
const output = new URL(profile === 'full' ? 'rayon.json' : 'rayon-quick.json', RESULTS);
mkdirSync(RESULTS, { recursive: true });

const missing = whyNotAvailable();
let record;
if (missing !== undefined) {
  process.stderr.write(`Rayon reference skipped: ${missing}\n`);
  record = { skipped: missing };
} else {
  process.stderr.write('building the Rayon reference (cargo build --release --offline)...\n');
  execFileSync('cargo', ['build', '--release', '--offline', '--quiet'], { cwd: CRATE, stdio: ['ignore', 'inherit', 'inherit'] });
  process.stderr.write(`running it (${profile})...\n`);
  const line = execFileSync(`${CRATE}target/release/viscose-rayon-reference`, [profile], { encoding: 'utf8' });
  record = {
    ...JSON.parse(line),
    rayonVersion: lockedVersion('rayon'),
    rustc: execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim(),
  };
}
writeFileSync(output, `${JSON.stringify(record, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(record)}\n`);

/** Why the reference cannot be built here, or undefined when it can. */
function whyNotAvailable() {
  try {
    execFileSync('cargo', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'cargo is not installed';
  }
  if (!existsSync(REGISTRY) || !readdirSync(REGISTRY).some((name) => name.startsWith('rayon-'))) {
    return `Debian's rayon crate is not in ${REGISTRY} (apt-get install librust-rayon-dev)`;
  }
  return undefined;
}

/** The version of `crate` that Cargo.lock says was built. */
function lockedVersion(crate) {
  const lock = readFileSync(`${CRATE}Cargo.lock`, 'utf8');
  return new RegExp(`name = "${crate}"\\nversion = "([^"]+)"`).exec(lock)?.[1] ?? 'unknown';
}
