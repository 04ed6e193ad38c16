// Workload for the heapgraph V8 test snapshots: builds designed structures on the
// heap, then writes heap snapshots. Run through gen-snapshots.sh (node v20, --expose-gc).
//
// Usage: node --expose-gc workload.js <outdir> [--tracking]
//   default:    writes node-workload-1.heapsnapshot and node-workload-2.heapsnapshot
//               (same process, so object ids are stable between the two)
//   --tracking: turns on HeapProfiler.startTrackingHeapObjects (trackAllocations) through
//               node:inspector, builds the phase-1 structures, writes node-tracking.heapsnapshot
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const inspector = require('node:inspector');

const outDir = process.argv[2];
const tracking = process.argv.includes('--tracking');
if (!outDir) {
  console.error('usage: node --expose-gc workload.js <outdir> [--tracking]');
  process.exit(2);
}

// ---- designed structures -------------------------------------------------

class LineItem {
  constructor(sku, qty) {
    this.sku = sku;
    this.qty = qty;
  }
}

class Order {
  constructor(id) {
    this.id = id;
    this.customer = 'customer-' + (id % 50);
    this.total = id * 1.25 + 0.5; // a double: boxed as a heap number unless unboxed in-object
    this.items = [new LineItem('sku-' + (id % 7), id % 3 + 1), new LineItem('sku-x', 1)];
  }
}

class CacheEntry {
  constructor(key, n) {
    this.key = key;
    this.payload = new Array(n).fill(key.length);
  }
}

class WeakKey {
  constructor(i) { this.i = i; }
}
class WeakValue {
  constructor(i) {
    this.i = i;
    this.blob = new Uint32Array(16); // backing store is native memory
  }
}

class ListNode {
  constructor(value, next) {
    this.value = value;
    this.next = next;
  }
}

class RingNode {
  constructor(i) {
    this.i = i;
    this.next = null;
  }
}

// 1000 instances of Order in an array held by a global.
globalThis.orders = [];
function addOrders(from, to) {
  for (let i = from; i < to; i++) globalThis.orders.push(new Order(i));
}

// A Map cache: string key -> CacheEntry.
globalThis.cache = new Map();
function fillCache(from, to) {
  for (let i = from; i < to; i++) {
    const key = 'k' + i;
    globalThis.cache.set(key, new CacheEntry(key, 8 + (i % 5)));
  }
}

// A WeakMap with object keys (kept alive by a global array) and values only held
// through the WeakMap (so DevTools' key -> value ephemeron rule decides their dominator).
globalThis.weakKeys = [];
globalThis.weakMap = new WeakMap();
function fillWeakMap(from, to) {
  for (let i = from; i < to; i++) {
    const k = new WeakKey(i);
    globalThis.weakKeys.push(k);
    globalThis.weakMap.set(k, new WeakValue(i));
  }
}

// Closures capturing context: each handler closes over its own state object and a
// shared counter object.
const shared = { calls: 0 };
function makeHandler(i) {
  const state = { i, label: 'handler-' + i, history: [i, i + 1, i + 2] };
  return function handler(x) {
    shared.calls++;
    state.history.push(x);
    return state.label;
  };
}
globalThis.handlers = [];
function addHandlers(from, to) {
  for (let i = from; i < to; i++) globalThis.handlers.push(makeHandler(i));
}

// A long singly linked list (a chain 2000 deep: dominator depth).
function buildList(n) {
  let head = null;
  for (let i = n - 1; i >= 0; i--) head = new ListNode(i, head);
  return head;
}
globalThis.listHead = buildList(2000);

// A cycle held only by itself via a closure: a ring of 64 RingNodes reachable only
// through the context of one closure stored in a global.
globalThis.ringProbe = (function () {
  const nodes = [];
  for (let i = 0; i < 64; i++) nodes.push(new RingNode(i));
  for (let i = 0; i < 64; i++) nodes[i].next = nodes[(i + 1) % 64];
  const entry = nodes[0];
  nodes.length = 0; // the ring is now held only through `entry` in this context
  return function ringProbe() { return entry.next.i; };
})();

// A shared subtree: one object referenced from two globals (dominated by the root
// side, not by either holder).
const sharedConfig = { name: 'shared-config', values: [1, 2, 3, 4, 5] };
globalThis.holderA = { config: sharedConfig, tag: 'A' };
globalThis.holderB = { config: sharedConfig, tag: 'B' };

// ---- snapshots -----------------------------------------------------------

function gc() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

function writeWithTracking(file, body) {
  // Allocation tracking is switched on through the inspector protocol, but the snapshot is
  // written by v8.writeHeapSnapshot: when HeapProfiler.takeHeapSnapshot streams chunks to a
  // JS listener in the same isolate, the listener's own allocations are traced while the
  // snapshot is serialized, so the header's trace_function_count ends up smaller than the
  // number of trace_function_infos records (38 vs 48 here), and DevTools' AllocationProfile
  // then throws on the file. writeHeapSnapshot serializes without running JS.
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => {
    let error;
    session.post(method, params || {}, (err) => { error = err; });
    if (error) throw error;
  };
  post('HeapProfiler.enable');
  post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  body();
  gc();
  v8.writeHeapSnapshot(file);
  post('HeapProfiler.stopTrackingHeapObjects', { reportProgress: false });
  post('HeapProfiler.disable');
  session.disconnect();
}

function phase1() {
  addOrders(0, 1000);
  fillCache(0, 300);
  fillWeakMap(0, 200);
  addHandlers(0, 100);
}

function phase2() {
  // Growth and churn between the two snapshots: new orders, some cache entries
  // evicted and new ones added, some weak keys dropped (their values die with them),
  // the list grown at the head.
  addOrders(1000, 1500);
  for (let i = 0; i < 100; i++) globalThis.cache.delete('k' + i);
  fillCache(300, 400);
  globalThis.weakKeys.splice(0, 50);
  addHandlers(100, 120);
  for (let i = 0; i < 100; i++) globalThis.listHead = new ListNode(-1 - i, globalThis.listHead);
}

if (tracking) {
  writeWithTracking(path.join(outDir, 'node-tracking.heapsnapshot'), phase1);
} else {
  phase1();
  gc();
  v8.writeHeapSnapshot(path.join(outDir, 'node-workload-1.heapsnapshot'));
  phase2();
  gc();
  v8.writeHeapSnapshot(path.join(outDir, 'node-workload-2.heapsnapshot'));
}
// Keep everything alive until here.
if (globalThis.orders.length === 0 || globalThis.ringProbe() !== 1) process.exit(1);
