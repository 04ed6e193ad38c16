// Drives headless Chromium over the Chrome DevTools Protocol and writes three
// heap snapshots of page.html (baseline / target / final) for three-snapshot
// leak detection. Node 20 with --experimental-websocket (no npm packages).
//
// Usage: node --experimental-websocket cdp-driver.mjs OUTDIR [CHROMIUM [PAGE]]
//
// PAGE (default: page.html beside this script) defines doAction() and
// undoAction(); the driver snapshots before, between and after them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2] || '.';
const chromium = process.argv[3] || '/usr/bin/chromium';
fs.mkdirSync(outdir, { recursive: true });

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'heapgraph-chromium-'));
const pageUrl = pathToFileURL(path.resolve(process.argv[4] || path.join(here, 'page.html'))).href;
const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-extensions', '--remote-debugging-address=127.0.0.1',
  `--user-data-dir=${profile}`, '--remote-debugging-port=0', pageUrl,
], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
browser.stderr.on('data', (d) => { stderr += d; });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function devtoolsPort() {
  const file = path.join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(file)) {
      const [port] = fs.readFileSync(file, 'utf8').split('\n');
      if (port) return Number(port);
    }
    await sleep(100);
  }
  throw new Error('Chromium did not write DevToolsActivePort:\n' + stderr);
}

async function pageTarget(port) {
  for (let i = 0; i < 100; i++) {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const page = list.find((t) => t.type === 'page' && t.url === pageUrl);
    if (page) return page;
    await sleep(100);
  }
  throw new Error('page target not found');
}

function connect(url) {
  const ws = new WebSocket(url);
  let next = 1;
  const pending = new Map();
  const listeners = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg.result);
    } else {
      for (const f of listeners.get(msg.method) || []) f(msg.params);
    }
  };
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, method, params }));
  });
  const on = (method, f) => {
    if (!listeners.has(method)) listeners.set(method, []);
    listeners.get(method).push(f);
  };
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({ send, on, close: () => ws.close() });
    ws.onerror = (e) => reject(new Error('websocket error: ' + e.message));
  });
}

async function main() {
  const port = await devtoolsPort();
  const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
  console.log('browser:', version.Browser, 'V8', version['V8-Version']);
  fs.writeFileSync(path.join(outdir, 'version.txt'),
    `${version.Browser}\nV8 ${version['V8-Version']}\n${version['User-Agent']}\n`);
  const target = await pageTarget(port);
  const cdp = await connect(target.webSocketDebuggerUrl);
  await cdp.send('Runtime.enable');
  await cdp.send('HeapProfiler.enable');

  const evaluate = async (expression) => {
    const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  // Wait until the page's script has run.
  for (let i = 0; i < 100 && (await evaluate('typeof doAction')) !== 'function'; i++) await sleep(100);

  let chunks = null;
  cdp.on('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => { if (chunks) chunks.push(chunk); });
  const snapshot = async (name) => {
    // Two full GCs so that objects dropped just before are gone.
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    chunks = [];
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const file = path.join(outdir, `${name}.heapsnapshot`);
    fs.writeFileSync(file, chunks.join(''));
    chunks = null;
    console.log('wrote', file, fs.statSync(file).size, 'bytes');
  };

  await snapshot('baseline');
  console.log('children after action:', await evaluate('doAction()'));
  await snapshot('target');
  console.log('children after undo:', await evaluate('undoAction()'));
  await snapshot('final');
  console.log('after undo:', await evaluate('typeof describeLeak === "function" ? describeLeak() : window.leakedCards.length + " cards, isConnected=" + window.leakedCards.some(c => c.isConnected)'));
  cdp.close();
}

try {
  await main();
} finally {
  browser.kill('SIGTERM');
  await new Promise((r) => browser.once('exit', r));
  fs.rmSync(profile, { recursive: true, force: true });
}
