// Writes a large Node.js heap snapshot for timing the V8 parser.
// Usage: node --expose-gc benches/v8/gen-big.js /tmp/big.heapsnapshot [objects]
'use strict';
const v8 = require('node:v8');
const out = process.argv[2] || '/tmp/big.heapsnapshot';
const n = Number(process.argv[3] || 600000);
class Item { constructor(i) { this.id = i; this.name = 'item-' + i; this.tags = [i & 7, i & 3]; this.next = null; } }
const items = [];
for (let i = 0; i < n; i++) {
  const item = new Item(i);
  if (i > 0) items[i - 1].next = item;
  items.push(item);
}
globalThis.keep = { items, map: new Map(items.slice(0, 50000).map((x) => [x.name, x])) };
global.gc();
console.log(v8.writeHeapSnapshot(out));
