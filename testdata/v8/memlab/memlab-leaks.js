// Runs memlab's find-leaks pipeline through @memlab/core (the calls its CLI
// makes) on three snapshots and writes what it found as JSON: the leaked
// object ids of every cluster, with the cluster's count and retained size.
//
// Usage: node memlab-leaks.js MEMLAB_DIR BASELINE TARGET FINAL OUT.json WORKDIR [all]
// MEMLAB_DIR holds node_modules/@memlab/core; `all` is --trace-all-objects.
'use strict';
const fs = require('fs');
const path = require('path');

const [memlabDir, baseline, target, final, out, workDir, mode] = process.argv.slice(2);
const corePath = path.join(memlabDir, 'node_modules', '@memlab', 'core');
const core = require(corePath);
const { config, analysis, NormalizedTrace, utils, fileManager } = core;

fs.mkdirSync(workDir, { recursive: true });
config.useExternalSnapshot = true;
config.externalSnapshotFilePaths = [baseline, target, final];
fileManager.initDirs(config, { workDir });
config.chaseWeakMapEdge = false; // as find-leaks sets it
config.isMLClustering = false;
if (mode === 'all') {
  // What a bare --trace-all-objects sets.
  config.oversizeObjectAsLeak = true;
  config.oversizeThreshold = 0;
  config.traceAllObjectsMode = 1;
}

(async () => {
  const diff = await analysis.diffSnapshots({ loadAllSnapshots: true });
  const snapshot = diff.snapshot;
  const candidates = diff.leakedHeapNodeIdSet.size;
  const paths = analysis.filterLeakPaths(diff.leakedHeapNodeIdSet, snapshot);
  const clusters = NormalizedTrace.clusterPaths(paths, snapshot, utils.aggregateDominatorMetrics, {});
  const result = {
    memlab_version: require(path.join(corePath, 'package.json')).version,
    mode: mode === 'all' ? 'all_objects' : 'memlab',
    candidate_count: candidates,
    leak_ids: paths.map((p) => utils.getLeakedNode(p).id).sort((a, b) => a - b),
    clusters: clusters.map((c) => ({
      count: c.count,
      retained_size: c.retainedSize,
      member_ids: Array.from(c.leakedNodeIds || []).sort((a, b) => a - b),
    })),
  };
  fs.writeFileSync(out, JSON.stringify(result));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
