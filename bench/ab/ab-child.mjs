// One A/B measurement of one build (bench/ab/ab.mjs): the single-call rate of a pool (100,000
// concurrent trivial calls after three warm-up bursts), its runBatch rate (the same calls as one
// batch, after three warm-up batches) and a processor's executeParallelBatch rate
// (50,000 requests after a warm-up batch), every result checked. Prints one JSON line of rates per
// second.
import { checkTrivialResults, trivialRequests } from '../lib/trivial-requests.mjs';

const tasks = new URL('../workers/viscose-tasks.mjs', import.meta.url);
const { ThreadPool, ParallelProcessor } = await import(process.argv[2]);
const rate = (count, since) => count / ((performance.now() - since) / 1000);

const pool = await ThreadPool.create({ module: tasks, threads: 2 });
const warmUp = trivialRequests(20_000);
for (let burst = 0; burst < 3; burst++) await Promise.all(warmUp.map((request) => pool.run('trivial', request)));
const calls = trivialRequests(100_000);
let start = performance.now();
const results = await Promise.all(calls.map((request) => pool.run('trivial', request)));
const runPerSecond = rate(calls.length, start);
checkTrivialResults(calls, results);
const argsList = calls.map((request) => [request]);
for (let burst = 0; burst < 3; burst++) await pool.runBatch('trivial', argsList);
start = performance.now();
const batchResults = await pool.runBatch('trivial', argsList);
const runBatchPerSecond = rate(calls.length, start);
checkTrivialResults(calls, batchResults);
await pool.close();

// `threadCount` was the processor's name for `threads` before they were unified; both builds take it.
const processor = await ParallelProcessor.create({ module: tasks, handler: 'trivial', threadCount: 2 });
await processor.executeParallelBatch(trivialRequests(10_000));
const requests = trivialRequests(50_000);
start = performance.now();
const outcomes = await processor.executeParallelBatch(requests);
const parallelBatchPerSecond = rate(requests.length, start);
checkTrivialResults(
  requests,
  outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.error)),
);
await processor.close();

console.log(JSON.stringify({ runPerSecond, runBatchPerSecond, parallelBatchPerSecond }));
