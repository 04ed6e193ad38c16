// Generates the Node.js test snapshots in this directory.
// Run: node --expose-gc gen_node.js   (Node v20; see README.md)
'use strict';
const v8 = require('node:v8');
const fs = require('node:fs');
const path = require('node:path');
const inspector = require('node:inspector');

class Order {
  constructor(i) { this.orderId = i; this.amount = i * 3; }
}
class Tracked {
  constructor(i) { this.n = i; }
}

// Planted objects, all reachable from globalThis.
globalThis.plantedOrders = [];
for (let i = 0; i < 1000; i++) globalThis.plantedOrders.push(new Order(i));
globalThis.plantedMap = new Map([['alpha', 1], ['beta', 2]]);
globalThis.plantedClosure = (function makeCounter() {
  // An object, not a number: V8 records context variables that hold heap objects.
  const capturedState = { count: 41 };
  return function counterClosure() { return ++capturedState.count; };
})();
class WeakKey { constructor() { this.k = 1; } }
class WeakValue { constructor() { this.v = 2; } }
const weakKey = new WeakKey();
globalThis.plantedWeakKey = weakKey;
globalThis.plantedWeakMap = new WeakMap([[weakKey, new WeakValue()]]);
globalThis.plantedLongString = 'L'.repeat(5000).split('').join('');  // flat, 5000 chars
globalThis.plantedEmoji = ('emoji \u{1F600} lone \uD800 end ' + Date.now()).split('').join('');  // flat

const out = __dirname;
function snapshotTo(name) {
  global.gc();
  const file = v8.writeHeapSnapshot(path.join(out, name));
  return file;
}

snapshotTo('node20-planted.heapsnapshot');

// Allocation tracking through the inspector: trace_tree gets filled.
const session = new inspector.Session();
session.connect();
const chunks = [];
session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
function post(method, params) {
  return new Promise((resolve, reject) =>
    session.post(method, params || {}, (err, res) => (err ? reject(err) : resolve(res))));
}
function allocateTracked() {
  const list = [];
  for (let i = 0; i < 300; i++) list.push(new Tracked(i));
  return list;
}
(async () => {
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  globalThis.trackedList = allocateTracked();
  // sampling profile at the same time
  await post('HeapProfiler.startSampling', { samplingInterval: 256 });
  globalThis.sampled = [];
  for (let i = 0; i < 2000; i++) globalThis.sampled.push({ i, s: 'x' + i });
  const prof = await post('HeapProfiler.stopSampling');
  fs.writeFileSync(path.join(out, 'node20-sampling.heapprofile'), JSON.stringify(prof.profile));
  await post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  // stopTrackingHeapObjects streams a second snapshot: keep only the first.
  fs.writeFileSync(path.join(out, 'node20-tracked.heapsnapshot'), chunks.join(''));
  chunks.length = 0;
  await post('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
  session.disconnect();
})();
