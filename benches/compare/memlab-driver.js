// heapgraph comparison: memlab's full heap analysis (our code, memlab's API).
//
//   node memlab-driver.js <file.heapsnapshot>      (NODE_PATH points at the tool dir's node_modules)
//
// getFullHeapFromFile parses the snapshot and computes memlab's dominator tree and retained
// sizes (what every `memlab analyze` plugin starts from). We then build the class histogram
// (count, shallow size, retained size of the largest instance per constructor name — the same
// aggregate DevTools' Summary shows) and print the totals and the top 10 classes by retained size.
'use strict';
const {getFullHeapFromFile} = require('@memlab/heap-analysis');

async function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node memlab-driver.js <file.heapsnapshot>');
    process.exit(2);
  }
  const heap = await getFullHeapFromFile(file);
  const classes = new Map();
  let nodes = 0;
  let edges = 0;
  heap.nodes.forEach(node => {
    nodes++;
    edges += node.edge_count;
    let c = classes.get(node.name);
    if (c === undefined) {
      c = {name: node.name, count: 0, self: 0, maxRet: 0};
      classes.set(node.name, c);
    }
    c.count++;
    c.self += node.self_size;
    if (node.retainedSize > c.maxRet) c.maxRet = node.retainedSize;
  });
  const rows = [...classes.values()].sort((a, b) => b.maxRet - a.maxRet);
  console.log(`nodes ${nodes} edges ${edges} classes ${rows.length}`);
  for (const c of rows.slice(0, 10)) {
    console.log(`${c.count}\t${c.self}\t${c.maxRet}\t${c.name}`);
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
