/**
 * The option tables of docs/guide/ are rendered from the options tables and the TSDoc of the
 * options interfaces: this fails when they differ. `npm run docs:options` rewrites them.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_OPTIONS, CLUSTER_CALL_OPTIONS, NODE_OPTIONS } from '../../src/bullmq/options.js';
import { CALL_OPTIONS } from '../../src/pool/call-options.js';
import { POOL_OPTIONS } from '../../src/pool/options.js';
import { PROCESSOR_OPTIONS, REQUEST_OPTIONS } from '../../src/processor/options.js';
import { STREAM_OPTIONS } from '../../src/processor/stream.js';
import { type OptionsFacade, docPath, programFor, readDoc, withTables } from '../support/option-docs.js';

const FACADES: OptionsFacade[] = [
  { name: 'pool', doc: 'docs/guide/pool.md', source: 'src/pool/options.ts', interfaceName: 'ThreadPoolOptions', table: POOL_OPTIONS },
  { name: 'calls', doc: 'docs/guide/pool.md', source: 'src/pool/types.ts', interfaceName: 'CallOptions', table: CALL_OPTIONS },
  {
    name: 'processor',
    doc: 'docs/guide/processor.md',
    source: 'src/processor/options.ts',
    interfaceName: 'ProcessorOptions',
    table: PROCESSOR_OPTIONS,
  },
  {
    name: 'requests',
    doc: 'docs/guide/processor.md',
    source: 'src/processor/options.ts',
    interfaceName: 'RequestOptions',
    table: REQUEST_OPTIONS,
  },
  {
    name: 'stream',
    doc: 'docs/guide/processor.md',
    source: 'src/processor/stream.ts',
    interfaceName: 'StreamOptions',
    table: STREAM_OPTIONS,
  },
  {
    name: 'client',
    doc: 'docs/guide/cluster.md',
    source: 'src/bullmq/client.ts',
    interfaceName: 'ClusterClientOptions',
    table: CLIENT_OPTIONS,
  },
  {
    name: 'cluster-calls',
    doc: 'docs/guide/cluster.md',
    source: 'src/bullmq/client.ts',
    interfaceName: 'ClusterCallOptions',
    table: CLUSTER_CALL_OPTIONS,
  },
  { name: 'node', doc: 'docs/guide/cluster.md', source: 'src/bullmq/node.ts', interfaceName: 'QueueNodeOptions', table: NODE_OPTIONS },
];

describe('the option tables of the guides', () => {
  const program = programFor(FACADES);
  for (const doc of new Set(FACADES.map((facade) => facade.doc))) {
    it(`${doc} shows every option as the code declares it`, () => {
      const facades = FACADES.filter((facade) => facade.doc === doc);
      const text = readDoc(doc);
      const rendered = withTables(text, facades, program);
      if (process.env.WRITE_OPTION_DOCS === '1') writeFileSync(docPath(doc), rendered);
      else expect(text, 'run `npm run docs:options`').toBe(rendered);
    });
  }
});
