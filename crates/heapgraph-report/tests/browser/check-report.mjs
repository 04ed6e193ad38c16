// Opens heapgraph reports in headless Chromium over the DevTools protocol
// and checks them as a person would use them: the page loads with no
// console error and no network request, the overview and histogram numbers
// equal `--json`'s, clicking a histogram header re-sorts the rows, clicking
// a dominator-tree node shows its children. Saves a screenshot of each.
//
// Usage: node --experimental-websocket check-report.mjs HEAPGRAPH SHOTS_DIR DUMP...
// A DUMP of the form OLD,NEW or BASELINE,TARGET,FINAL makes a diff or leak
// page; the page's other sections describe the last dump.
// Needs /usr/bin/chromium (Debian's `chromium`) or $CHROMIUM; node 20, no npm packages.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [heapgraph, shots, ...dumps] = process.argv.slice(2);
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(shots, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'heapgraph-report-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function json(...args) {
  return JSON.parse(execFileSync(heapgraph, ['--quiet', '--json', ...args], { maxBuffer: 1 << 28 }).toString());
}

async function launch() {
  const profile = fs.mkdtempSync(path.join(work, 'profile-'));
  const browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, '--window-size=1280,900', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Chromium writes the port once it listens; the file may exist empty
  // for a moment first.
  const file = path.join(profile, 'DevToolsActivePort');
  let port = NaN;
  for (let i = 0; i < 300 && !(port > 0); i++) {
    if (fs.existsSync(file)) port = Number(fs.readFileSync(file, 'utf8').split('\n')[0]);
    if (!(port > 0)) await sleep(100);
  }
  if (!(port > 0)) throw new Error('Chromium did not write DevToolsActivePort');
  let target = null;
  for (let i = 0; i < 100 && !target; i++) {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    target = list.find((t) => t.type === 'page');
    if (!target) await sleep(100);
  }
  return { browser, target };
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

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

async function checkDump(cdp, spec) {
  const files = spec.split(',');
  const dump = files[files.length - 1];
  const name = files.map((f) => path.basename(f)).join('+');
  const html = path.join(work, name + '.html');
  execFileSync(heapgraph, ['--quiet', 'report', ...files, '-o', html]);
  const summary = json('summary', dump);
  const histogram = json('histogram', '--top', '0', dump);
  const size = fs.statSync(html).size;
  console.log(`== ${name}: ${html} (${(size / 1024).toFixed(0)} KiB)`);

  const errors = [];
  const requests = [];
  cdp.on('Runtime.exceptionThrown', (p) => errors.push(p.exceptionDetails.text));
  cdp.on('Runtime.consoleAPICalled', (p) => { if (p.type === 'error' || p.type === 'assert') errors.push(JSON.stringify(p.args)); });
  cdp.on('Log.entryAdded', (p) => { if (p.entry.level === 'error') errors.push(p.entry.text); });
  cdp.on('Network.requestWillBeSent', (p) => {
    const url = p.request.url;
    if (!url.startsWith('file:') && !url.startsWith('data:') && url !== 'about:blank') requests.push(url);
  });
  let loaded = null;
  const load = new Promise((r) => { loaded = r; });
  cdp.on('Page.loadEventFired', () => loaded && loaded());
  await cdp.send('Page.navigate', { url: pathToFileURL(html).href });
  await load;
  loaded = null;
  await sleep(300);
  const evaluate = async (expression) => {
    const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };

  // A leak or diff page leads with its clusters or changed classes, as the
  // command line reports them.
  if (files.length === 3) {
    const leaks = json('leaks', '--top', '0', ...files);
    const rows = await evaluate(`document.querySelectorAll('#leak-clusters tbody tr, #growing-paths tbody tr').length`);
    const want = leaks.matching === 'id' ? Math.max(1, Math.min(200, leaks.clusters.length)) : Math.max(1, Math.min(200, leaks.growing_paths.length));
    check(rows === want, `leak page lists ${rows} rows (--json: ${want})`);
  } else if (files.length === 2) {
    const diff = json('diff', '--top', '0', ...files);
    const rows = await evaluate(`document.querySelectorAll('#diff-classes tbody tr').length`);
    check(rows === Math.max(1, Math.min(200, diff.classes.length)), `diff page lists ${rows} classes (--json: ${diff.classes.length})`);
  }
  // The overview equals `summary --json`.
  for (const key of ['node_count', 'edge_count', 'root_count', 'total_size', 'reachable_size', 'unreachable_count']) {
    const shown = await evaluate(`Number(document.getElementById('ov-${key}').dataset.value)`);
    check(shown === summary[key], `overview ${key}: page ${shown}, --json ${summary[key]}`);
  }
  // The histogram's first rows equal `histogram --json` (retained order).
  const rowsNow = `Array.from(document.querySelectorAll('#spacer .grid-row')).sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((r) => ({ name: r.firstChild.textContent, count: Number(r.dataset.count), retained: Number(r.dataset.retained) }))`;
  const first = await evaluate(rowsNow);
  const want = histogram.classes.slice(0, Math.min(5, first.length));
  check(histogram.class_count === 0 ? first.length === 0 : first.length > 0,
    `histogram shows rows (${first.length} in the document, ${histogram.class_count} classes)`);
  if (histogram.class_count === 0) {
    check(errors.length === 0, `no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
    check(requests.length === 0, `no network requests${requests.length ? ': ' + requests.join(' ') : ''}`);
    return;
  }
  check(want.every((c, i) => first[i].name === c.class && first[i].retained === c.retained_size && first[i].count === c.count),
    `histogram top ${want.length} rows equal --json's`);
  // Clicking the Objects header sorts by count, largest first.
  await evaluate(`document.querySelector('.grid-head [data-key=count]').click()`);
  const byCount = await evaluate(rowsNow);
  const maxCount = Math.max(...histogram.classes.map((c) => c.count));
  check(byCount.length > 0 && byCount[0].count === maxCount && byCount.every((r, i) => i === 0 || byCount[i - 1].count >= r.count),
    `clicking "Objects" re-sorts by count (first ${byCount[0] && byCount[0].count}, max ${maxCount})`);
  // The filter box narrows the rows.
  const needle = histogram.classes[0].class.slice(0, 6);
  await evaluate(`(() => { const f = document.getElementById('filter'); f.value = ${JSON.stringify(needle)}; f.dispatchEvent(new Event('input')); })()`);
  const filtered = await evaluate(rowsNow);
  check(filtered.length > 0 && filtered.every((r) => r.name.toLowerCase().includes(needle.toLowerCase())), `filtering by "${needle}" keeps matching rows only`);
  // Opening a dominator-tree node shows its children.
  const opened = await evaluate(`(() => {
    const node = Array.from(document.querySelectorAll('#tree > li > .node')).find((n) => n.firstChild.textContent === '▸');
    if (!node) return -1;
    node.click();
    const list = node.parentElement.querySelector(':scope > ul');
    return list ? list.querySelectorAll(':scope > li').length : 0;
  })()`);
  check(opened !== 0, `opening a dominator-tree node shows ${opened} children` + (opened === -1 ? ' (no node has children: skipped)' : ''));
  check(errors.length === 0, `no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  check(requests.length === 0, `no network requests${requests.length ? ': ' + requests.join(' ') : ''}`);
  const shot = await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
  fs.writeFileSync(path.join(shots, name + '.png'), Buffer.from(shot.data, 'base64'));
}

const { browser, target } = await launch();
try {
  for (const dump of dumps) {
    const cdp = await connect(target.webSocketDebuggerUrl);
    await cdp.send('Page.enable');
    await cdp.send('Runtime.enable');
    await cdp.send('Log.enable');
    await cdp.send('Network.enable');
    await checkDump(cdp, dump);
    cdp.close();
  }
} finally {
  browser.kill('SIGTERM');
  await new Promise((r) => browser.once('exit', r));
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `${failures} check(s) failed` : 'all report checks passed');
process.exit(failures ? 1 : 0);
