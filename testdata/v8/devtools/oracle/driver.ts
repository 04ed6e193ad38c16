// heapgraph DevTools oracle driver (our own code, not part of DevTools).
//
// run-oracle.sh copies this file into an unpacked `chrome-devtools-frontend` npm package at
// `front_end/heapgraph_oracle_driver.ts`, bundles it with esbuild and runs it with Node:
//
//   node driver.mjs <snapshot(.gz)> <out-prefix> <devtools-version> [source-name]
//
// It feeds the snapshot text to DevTools' own HeapSnapshotLoader, builds the JSHeapSnapshot
// exactly as the DevTools heap snapshot worker does (the "second worker" runs in the same
// thread over a MessageChannel), then writes
//   <out-prefix>.devtools.tsv.gz        one line per node ordinal (see ../README.md)
//   <out-prefix>.devtools-summary.json  totals and the Summary view's class aggregates
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import {MessageChannel} from 'node:worker_threads';

import * as HeapSnapshotWorker from './entrypoints/heap_snapshot_worker/heap_snapshot_worker.js';
import * as HeapSnapshotModel from './models/heap_snapshot/heap_snapshot.js';

const [inputPath, outPrefix, devtoolsVersion, sourceArg] = process.argv.slice(2);
const sourceName = sourceArg || path.basename(inputPath);
if (!inputPath || !outPrefix || !devtoolsVersion) {
  console.error('usage: node driver.mjs <snapshot(.gz)> <out-prefix> <devtools-version>');
  process.exit(2);
}

// Problems DevTools reports while building the snapshot (e.g. "N nodes are unreachable").
const problems: string[] = [];
// The dominator pass (second worker) reports those through console.warn.
const originalWarn = console.warn;
console.warn = (...args: unknown[]): void => {
  const message = args.map(String).join(' ');
  problems.push(message);
  originalWarn(message.split('\n')[0]);
};
const dispatcher = {
  sendEvent(name: string, ...args: unknown[]): void {
    if (name === HeapSnapshotModel.HeapSnapshotModel.HeapSnapshotProgressEvent.BrokenSnapshot) {
      problems.push(String(args[0]));
    }
  },
};

function readSnapshotText(file: string): string {
  let bytes = fs.readFileSync(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = zlib.gunzipSync(bytes);
  }
  return bytes.toString('utf8');
}

// TSV cells: escape the few characters that would break the line structure.
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

async function main(): Promise<void> {
  const text = readSnapshotText(inputPath);
  const loader = new HeapSnapshotWorker.HeapSnapshotLoader.HeapSnapshotLoader(dispatcher as any);
  // DevTools receives the file in chunks; mimic that (1 MiB of text per chunk).
  const chunk = 1 << 20;
  for (let i = 0; i < text.length; i += chunk) {
    loader.write(text.slice(i, i + chunk));
  }
  loader.close();

  const channel = new MessageChannel();
  // The secondary worker computes retainers, dominators and retained sizes.
  new HeapSnapshotWorker.HeapSnapshot.SecondaryInitManager(channel.port2 as any);
  const snapshot = await loader.buildSnapshot(channel.port1 as any);
  channel.port1.close();
  channel.port2.close();

  const nodeCount = snapshot.nodeCount;
  const nodeFieldCount = snapshot.nodeFieldCount;
  const node = snapshot.createNode(0);
  const strings = snapshot.strings;

  const header = [
    `# devtools-oracle chrome-devtools-frontend@${devtoolsVersion} node=${process.version}` +
        ` source=${sourceName} nodes=${nodeCount} root_ordinal=${snapshot.rootNodeIndex / nodeFieldCount}`,
    ['ordinal', 'id', 'type', 'class_name', 'class_key', 'shallow_size', 'retained_size', 'dominator', 'distance'].join(
        '\t'),
  ];
  const lines: string[] = header;
  for (let ordinal = 0; ordinal < nodeCount; ordinal++) {
    node.nodeIndex = ordinal * nodeFieldCount;
    const internalKey = node.classKeyInternal();
    // Same conversion as HeapSnapshot.#classKeyFromClassKey (the key of the Summary's aggregates).
    const classKey = typeof internalKey === 'number' ? ',' + strings[internalKey] : internalKey;
    lines.push([
      ordinal,
      node.id(),
      node.type(),
      cell(node.className()),
      cell(classKey),
      node.selfSize(),
      node.retainedSize(),
      snapshot.dominatorsTree[ordinal],
      snapshot.nodeDistances[ordinal],
    ].join('\t'));
  }
  fs.writeFileSync(
      outPrefix + '.devtools.tsv.gz', zlib.gzipSync(Buffer.from(lines.join('\n') + '\n', 'utf8'), {level: 9}));

  // The Summary view ("All objects"): aggregates keyed by the public class key.
  const aggregates = snapshot.aggregatesWithFilter(new HeapSnapshotModel.HeapSnapshotModel.NodeFilter());
  const classes = Object.keys(aggregates).sort().map(key => {
    const a = aggregates[key];
    return {key, name: a.name, count: a.count, shallow_size: a.self, retained_size: a.maxRet, distance: a.distance};
  });
  const rootOrdinal = snapshot.rootNodeIndex / nodeFieldCount;
  let shallowTotal = 0;
  let unreachable = 0;
  for (let ordinal = 0; ordinal < nodeCount; ordinal++) {
    node.nodeIndex = ordinal * nodeFieldCount;
    shallowTotal += node.selfSize();
    if (snapshot.nodeDistances[ordinal] === -5) {
      unreachable++;
    }
  }
  const summary = {
    producer: {
      devtools: `chrome-devtools-frontend@${devtoolsVersion}`,
      node: process.version,
      source: sourceName,
    },
    node_count: nodeCount,
    edge_count: snapshot.containmentEdges.length / snapshot.edgeFieldsCount,
    root_ordinal: rootOrdinal,
    extra_native_bytes: snapshot.profile.snapshot.extra_native_bytes ?? 0,
    // HeapSnapshot.totalSize: root retained size + extra_native_bytes (the number DevTools shows).
    total_size: snapshot.totalSize,
    root_retained_size: snapshot.retainedSizes[rootOrdinal],
    shallow_size_sum: shallowTotal,
    // Distance values DevTools uses: -5 = not reached by the BFS; system nodes start at 100000000.
    no_distance: -5,
    base_system_distance: HeapSnapshotModel.HeapSnapshotModel.baseSystemDistance,
    nodes_without_distance: unreachable,
    statistics: snapshot.getStatistics(),
    problems,
    class_count: classes.length,
    classes,
  };
  // Pretty-printed, but one class aggregate per line to keep the file small and diffable.
  const {classes: classList, ...rest} = summary;
  const head = JSON.stringify(rest, null, 1);
  const json = head.slice(0, head.lastIndexOf('}')).trimEnd() + ',\n "classes": [\n' +
      classList.map(c => '  ' + JSON.stringify(c)).join(',\n') + '\n ]\n}\n';
  JSON.parse(json);  // self-check
  fs.writeFileSync(outPrefix + '.devtools-summary.json', json);
  console.log(
      `${sourceName}: ${nodeCount} nodes, total ${snapshot.totalSize}, ${classes.length} classes, ` +
      `${problems.length} problem reports`);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
