// Writes three heap snapshots of one Node process (ids are stable within
// it) for three-snapshot leak detection, with a planted leak:
//
//   baseline  - the app is warmed up
//   target    - after the "action": 400 LeakedItem objects (each holding a
//               LeakPayload) pushed into a long-lived registry, plus 300
//               TempItem objects that the action also creates
//   final     - after "undoing" the action: the TempItems are released, the
//               LeakedItems stay (the leak), and 250 LateItem objects are
//               created after the target snapshot (growth that is not caused
//               by the action, so not a leak of it)
//
// Usage: node --expose-gc leak-series.js OUTDIR
'use strict';
const v8 = require('v8');
const path = require('path');
const fs = require('fs');

const outdir = process.argv[2] || '.';
fs.mkdirSync(outdir, { recursive: true });

class LeakPayload { constructor(i) { this.data = new Array(8).fill(i); } }
class LeakedItem { constructor(i) { this.id = i; this.payload = new LeakPayload(i); } }
class TempItem { constructor(i) { this.id = i; this.buffer = new Array(16).fill(i); } }
class LateItem { constructor(i) { this.id = i; } }
class SteadyItem { constructor(i) { this.id = i; } }

const app = {
  registry: { listeners: [] },   // the long-lived place the leak hides in
  steady: [],
  temp: null,
  late: null,
};
globalThis.app = app;
for (let i = 0; i < 100; i++) app.steady.push(new SteadyItem(i));

function snapshot(name) {
  global.gc();
  const file = path.join(outdir, name + '.heapsnapshot');
  v8.writeHeapSnapshot(file);
  console.log('wrote', file);
}

snapshot('baseline');
// The action.
for (let i = 0; i < 400; i++) app.registry.listeners.push(new LeakedItem(i));
app.temp = [];
for (let i = 0; i < 300; i++) app.temp.push(new TempItem(i));
snapshot('target');
// Undo the action: the temporaries go, the listeners are forgotten.
app.temp = null;
app.late = [];
for (let i = 0; i < 250; i++) app.late.push(new LateItem(i));
snapshot('final');
