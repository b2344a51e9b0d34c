// What packing a cluster chunk's arguments costs the client: the one-pass writer for JSON data
// (src/codec/json-msgpack.ts) against checking the types (isJsonData) and then packing with
// msgpackr's plain packer and copying the bytes out, which is what the client did before, less the
// pass that found where each call's bytes end. Run from the sources:
//
//   node --import tsx bench/probes/json-pack.mjs
//
// Three shapes of 100,000 (20,000 for the long strings) argument lists, cut in chunks of 4,096
// calls as a client cuts them; the two ways alternate in one process, 8 rounds, and each prints
// the median of the last 6 in ns per call, and whether both wrote the same bytes.
import { trivialRequests } from '../lib/trivial-requests.mjs';
import { packJsonEach } from '../../src/codec/json-msgpack.js';
import { isJsonData } from '../../src/codec/json-values.js';
import { pack } from '../../src/codec/msgpack.js';
import { PayloadKind } from '../../src/shm/slot.js';

const CHUNK = 4096;
const ROUNDS = 8;

/** @param {unknown[][]} calls */
const writer = (calls) => packJsonEach(calls, 0, 0)?.bytes;

/** @param {unknown[][]} calls */
function checkThenMsgpackr(calls) {
  if (!isJsonData(calls, -1)) return undefined;
  const { bytes, start, end } = pack(calls, PayloadKind.PLAIN);
  // Without the list's header: the parts alone, as the writer writes them.
  const header = calls.length < 0x10 ? 1 : calls.length < 0x10000 ? 3 : 5;
  return Buffer.from(bytes.subarray(start + header, end));
}

const shapes = {
  'trivial requests': trivialRequests(100_000).map((request) => [request]),
  'nested objects': Array.from({ length: 100_000 }, (_, i) => [
    i,
    `name-${i} ünïcödé`,
    { tags: ['a', 'b', 'c'], score: i / 7, ok: i % 2 === 0, nested: { deep: [1, 2, { x: null }] } },
  ]),
  '540-character strings': Array.from({ length: 20_000 }, (_, i) => [{ id: i, body: 'lorem ipsum dolor sit amet '.repeat(20) }]),
};

for (const [name, argsList] of Object.entries(shapes)) {
  const sample = argsList.slice(0, CHUNK);
  const same = Buffer.compare(writer(sample), checkThenMsgpackr(sample)) === 0;
  /** @type {Record<string, number[]>} */
  const times = { writer: [], msgpackr: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [way, packCalls] of [
      ['msgpackr', checkThenMsgpackr],
      ['writer', writer],
    ]) {
      const start = process.hrtime.bigint();
      for (let at = 0; at < argsList.length; at += CHUNK) packCalls(argsList.slice(at, at + CHUNK));
      times[way].push(Number(process.hrtime.bigint() - start) / argsList.length);
    }
  }
  const median = (/** @type {number[]} */ runs) => runs.slice(2).sort((a, b) => a - b)[(runs.length - 2) >> 1];
  const [msgpackr, own] = [median(times.msgpackr), median(times.writer)];
  console.log(
    `${name}: check then msgpackr ${msgpackr.toFixed(0)} ns a call, writer ${own.toFixed(0)} (${(msgpackr / own).toFixed(2)}×); same bytes: ${same}`,
  );
}
