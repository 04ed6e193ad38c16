// heapgraph comparison: Chrome DevTools' heap snapshot worker, headless in Node (our code).
//
// run.sh copies this file into an unpacked `chrome-devtools-frontend` npm package at
// `front_end/heapgraph_bench_driver.ts`, bundles it with esbuild and runs
//
//   node driver.mjs <file.heapsnapshot>
//
// It does what the Memory panel does when a snapshot is opened and its Summary view shown:
// the file is streamed into DevTools' HeapSnapshotLoader in chunks (as the panel receives it,
// so files over V8's 512 MB string limit load too), the JSHeapSnapshot is built with its
// secondary worker (retainers, dominators, retained sizes, distances) and the Summary view's
// class aggregates (count, shallow and retained size per constructor) are computed.
// It prints the totals and the 10 classes with the largest retained size.
import * as fs from 'node:fs';
import {MessageChannel} from 'node:worker_threads';

import * as HeapSnapshotWorker from './entrypoints/heap_snapshot_worker/heap_snapshot_worker.js';
import * as HeapSnapshotModel from './models/heap_snapshot/heap_snapshot.js';

const inputPath = process.argv[2];
if (!inputPath) {
  console.error('usage: node driver.mjs <file.heapsnapshot>');
  process.exit(2);
}
const dispatcher = {
  sendEvent(_name: string, ..._args: unknown[]): void {},
};

async function main(): Promise<void> {
  const loader = new HeapSnapshotWorker.HeapSnapshotLoader.HeapSnapshotLoader(dispatcher as any);
  const stream = fs.createReadStream(inputPath, {encoding: 'utf8', highWaterMark: 1 << 20});
  for await (const chunk of stream) {
    loader.write(chunk as string);
  }
  loader.close();

  const channel = new MessageChannel();
  new HeapSnapshotWorker.HeapSnapshot.SecondaryInitManager(channel.port2 as any);
  const snapshot = await loader.buildSnapshot(channel.port1 as any);
  channel.port1.close();
  channel.port2.close();

  const aggregates = snapshot.aggregatesWithFilter(new HeapSnapshotModel.HeapSnapshotModel.NodeFilter());
  const classes = Object.values(aggregates) as any[];
  classes.sort((a, b) => b.maxRet - a.maxRet);
  console.log(`nodes ${snapshot.nodeCount} edges ${snapshot.containmentEdges.length / snapshot.edgeFieldsCount}` +
      ` total_size ${snapshot.totalSize} classes ${classes.length}`);
  for (const c of classes.slice(0, 10)) {
    console.log(`${c.count}\t${c.self}\t${c.maxRet}\t${c.name}`);
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
