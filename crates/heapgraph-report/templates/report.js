// heapgraph report: the class histogram (sorted, filtered, rendered as it
// scrolls) and the dominator tree (opened on click), from the page's JSON.
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('data').textContent);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  function bytes(n) {
    if (n < 1024) return n + ' B';
    let v = n, u = 0;
    while (v >= 1024 && u + 1 < units.length) { v /= 1024; u++; }
    return v.toFixed(1) + ' ' + units[u];
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Class histogram.
  const scroller = document.getElementById('rows');
  const spacer = document.getElementById('spacer');
  const shown = document.getElementById('shown');
  const heads = Array.from(document.querySelectorAll('.grid-head [data-key]'));
  const rowHeight = 26;
  let sortKey = 'retained_size';
  let descending = true;
  let filter = '';
  let view = [];
  function refresh() {
    const needle = filter.toLowerCase();
    view = data.classes.filter((r) => r.class.toLowerCase().includes(needle));
    view.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return descending ? -order : order;
    });
    for (const h of heads) {
      h.textContent = h.textContent.replace(/ [▾▴]$/, '');
      if (h.dataset.key === sortKey) h.textContent += descending ? ' ▾' : ' ▴';
    }
    shown.textContent = view.length + ' of ' + data.class_count + ' classes';
    spacer.style.height = view.length * rowHeight + 'px';
    draw();
  }
  // Only the rows in view (and a few around) are in the document.
  function draw() {
    const first = Math.max(0, Math.floor(scroller.scrollTop / rowHeight) - 5);
    const last = Math.min(view.length, first + Math.ceil(scroller.clientHeight / rowHeight) + 10);
    spacer.textContent = '';
    for (let i = first; i < last; i++) {
      const r = view[i];
      const row = el('div', 'grid-row');
      row.setAttribute('role', 'row');
      row.style.top = i * rowHeight + 'px';
      const name = el('span', '', r.class);
      name.title = r.class;
      row.append(name, el('span', 'num', r.count.toLocaleString('en')),
        el('span', 'num', bytes(r.shallow_size)), el('span', 'num', bytes(r.retained_size)));
      row.dataset.count = r.count;
      row.dataset.shallow = r.shallow_size;
      row.dataset.retained = r.retained_size;
      spacer.append(row);
    }
  }
  for (const h of heads) {
    h.addEventListener('click', () => {
      if (sortKey === h.dataset.key) descending = !descending;
      else { sortKey = h.dataset.key; descending = sortKey !== 'class'; }
      scroller.scrollTop = 0;
      refresh();
    });
  }
  document.getElementById('filter').addEventListener('input', (e) => {
    filter = e.target.value;
    scroller.scrollTop = 0;
    refresh();
  });
  scroller.addEventListener('scroll', draw);
  refresh();

  // Dominator tree: a flat list whose nodes name their parent's position.
  const total = Math.max(1, data.overview.reachable_size);
  const kids = data.tree.map(() => []);
  const tops = [];
  data.tree.forEach((n, i) => (n.parent === null ? tops : kids[n.parent]).push(i));
  function treeItem(i) {
    const node = data.tree[i];
    const li = el('li');
    const line = el('div', 'node');
    const open = kids[i].length > 0;
    const toggle = el('span', 'toggle', open ? '▸' : '·');
    const share = node.retained_size / total;
    const bar = el('span', 'bar');
    bar.style.width = Math.max(1, Math.round(share * 120)) + 'px';
    line.append(toggle, bar, el('span', 'cls', node.class || node.name),
      el('span', 'meta', '@' + node.id + (node.name && node.class ? ' ' + node.name : '')),
      el('span', 'meta', 'shallow ' + bytes(node.shallow_size)),
      el('span', 'meta', 'retained ' + bytes(node.retained_size) + ' (' + (share * 100).toFixed(1) + ' %)'));
    line.dataset.id = node.id;
    li.append(line);
    if (open) {
      let children = null;
      line.addEventListener('click', () => {
        if (children) {
          children.remove();
          children = null;
          toggle.textContent = '▸';
          return;
        }
        children = el('ul');
        for (const c of kids[i]) children.append(treeItem(c));
        const more = node.child_count - kids[i].length;
        if (more > 0) children.append(el('li', 'hint', '… ' + more + ' more not in this page'));
        li.append(children);
        toggle.textContent = '▾';
      });
    }
    return li;
  }
  const tree = document.getElementById('tree');
  for (const i of tops) tree.append(treeItem(i));
})();
