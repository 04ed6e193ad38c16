"""Writes a large tracemalloc dump of a small, realistic application (not committed).

    python3 app_gen.py OUT.pickle [SCALE] [SEED]

Unlike bench_gen.py, whose tracebacks repeat after 30 repetitions, this runs a
small multi-module application (its sources are below; importlib's own
SourceFileLoader imports them as /srv/shopapp/*.py, so import-time allocations
carry importlib frames and dumps of separate runs compare) under
`tracemalloc.start(25)`:

  settings.py   lookup tables built at import time
  textparse.py  a tokenizer and recursive-descent parser of nested records
  cache.py      a growing cache (never evicts) and a memoizing decorator
  models.py     an ORM-ish layer: Field descriptors, Model classes, managers, indexes
  catalog.py    a recursive tree walker, mutually recursive visitors, recursion
                up to 60 deep (deeper than the 25-frame limit)
  service.py    request handlers: parse, walk, store, audit
  main.py       the request loop

SCALE is the number of requests in thousands (default 8: about 1.4 M live
traces, 300 k distinct tracebacks, 63-70 MB); SEED picks the workload (the
sources do not change with it).
A later snapshot of the same process is the same SEED with a larger SCALE,
whose run starts with exactly the smaller one's requests.
The order of the traces in the dump follows memory addresses, so two runs
give the same statistics but not the same bytes (nor quite the same size: the
filenames' memo indices, hence BINGET or LONG_BINGET in every frame, depend on
which traces come first).
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import textwrap
import tracemalloc

MODULES = {}

MODULES["settings.py"] = '''
"""Settings and lookup tables, built when the module is imported."""
import random as _random

_R = _random.Random(20240611)

COUNTRIES = tuple("C%03d" % i for i in range(300))
CURRENCIES = {c: (c.lower(), _R.randint(1, 999)) for c in COUNTRIES}


def _unit(i):
    name = "unit-%d" % i
    return name, (i, name * (1 + i % 3))


UNITS = dict(_unit(i) for i in range(3000))
TAX_TABLE = [[round(_R.random(), 4) for _ in range(8)] for _ in range(1500)]
MESSAGES = {code: "message %d: %s" % (code, "x" * (code % 40)) for code in range(2500)}
STOPWORDS = frozenset("w%d" % i for i in range(800))
'''

MODULES["textparse.py"] = '''
"""A tokenizer and a recursive-descent parser of nested records:

    (kind key=value key=value (child ...) (child ...))
"""
from . import settings


class ParseError(Exception):
    pass


def tokenize(text):
    tokens = []
    word = []
    for ch in text:
        if ch in "()":
            if word:
                tokens.append("".join(word))
                word = []
            tokens.append(ch)
        elif ch == " ":
            if word:
                tokens.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        tokens.append("".join(word))
    return tokens


class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def parse(self):
        node = self.parse_node(0)
        if self.peek() is not None:
            raise ParseError("trailing tokens")
        return node

    def parse_node(self, depth):
        if self.take() != "(":
            raise ParseError("expected (")
        kind = self.take()
        attrs = {}
        children = []
        while True:
            token = self.peek()
            if token == ")":
                self.take()
                break
            if token == "(":
                children.append(self.parse_child(depth + 1))
            else:
                self.parse_attr(attrs, self.take())
        return (kind, attrs, tuple(children))

    def parse_child(self, depth):
        if depth > 80:
            raise ParseError("too deep")
        return self.parse_node(depth)

    def parse_attr(self, attrs, token):
        key, _, value = token.partition("=")
        if value.isdigit():
            attrs[key] = int(value) * 1000003
        elif value in settings.STOPWORDS:
            attrs[key] = None
        else:
            attrs[key] = value.upper()
'''

MODULES["cache.py"] = '''
"""A cache that only grows (the leak), and a memoizing decorator on top of it."""
import functools


class Entry:
    __slots__ = ("key", "value", "hits", "tags")

    def __init__(self, key, value, tags):
        self.key = key
        self.value = value
        self.hits = 0
        self.tags = tags


class Cache:
    def __init__(self, name):
        self.name = name
        self.entries = {}
        self.misses = 0

    def get(self, key):
        entry = self.entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        entry.hits += 1
        return entry.value

    def put(self, key, value, *tags):
        self.entries[key] = Entry(key, value, tags)
        return value

    def remember(self, key, make, *args):
        value = self.get(key)
        if value is None:
            value = self.put(key, make(*args), self.name)
        return value


RESULTS = Cache("results")
SUMMARIES = Cache("summaries")


def memoized(cache):
    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args):
            key = (function.__name__,) + args
            found = cache.get(key)
            if found is None:
                found = cache.put(key, function(*args))
            return found
        return wrapper
    return decorate
'''

MODULES["models.py"] = '''
"""An ORM-ish model layer: typed fields, model classes, managers with indexes."""
from . import cache, settings


class Field:
    def __init__(self, kind, default=None):
        self.kind = kind
        self.default = default
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj.__dict__.get(self.name, self.default)

    def __set__(self, obj, value):
        obj.__dict__[self.name] = self.clean(value)

    def clean(self, value):
        if self.kind is str:
            return "%s:%s" % (self.name, value)
        if self.kind is int:
            return int(value) + 1000003
        if self.kind is tuple:
            return tuple(value)
        return value


class Manager:
    def __init__(self, model):
        self.model = model
        self.rows = []
        self.by_key = {}

    def create(self, **values):
        row = self.model()
        for name, value in values.items():
            setattr(row, name, value)
        self.rows.append(row)
        self.index(row)
        return row

    def index(self, row):
        key = (self.model.__name__, row.key)
        self.by_key[key] = row

    def filter(self, **where):
        return [r for r in self.rows[-50:] if all(getattr(r, k) == v for k, v in where.items())]


class Model:
    registry = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.objects = Manager(cls)
        Model.registry[cls.__name__] = cls

    def describe(self):
        return "<%s %s>" % (type(self).__name__, self.key)


class Product(Model):
    key = Field(str)
    name = Field(str)
    price = Field(int)
    country = Field(str)


class Part(Model):
    key = Field(str)
    path = Field(tuple)
    weight = Field(int)


class Bundle(Model):
    key = Field(str)
    members = Field(tuple)


class AuditEvent(Model):
    key = Field(str)
    message = Field(str)
    stamp = Field(int)


def product_for(key, country):
    unit = settings.UNITS["unit-%d" % (len(key) % 3000)]
    return Product.objects.create(key=key, name=unit[1], price=len(key), country=country)


@cache.memoized(cache.SUMMARIES)
def summary(kind, depth):
    return "%s/%d/%s" % (kind, depth, "-" * (depth % 7))
'''

MODULES["catalog.py"] = '''
"""A catalog tree walked recursively: one visitor per node kind, mutually
recursive, and deeper than tracemalloc's 25 frames."""
from . import cache, models


class Node:
    __slots__ = ("kind", "name", "children", "attrs")

    def __init__(self, kind, name, children, attrs):
        self.kind = kind
        self.name = name
        self.children = children
        self.attrs = attrs


def from_parsed(parsed):
    kind, attrs, children = parsed
    return Node(kind, attrs.get("name", kind), [from_parsed(c) for c in children], attrs)


class Walker:
    def __init__(self, request_id, budget):
        self.request_id = request_id
        self.budget = budget
        self.path = []
        self.stored = 0

    def walk(self, node, depth):
        self.path.append(node.name)
        try:
            return VISITORS[node.kind](self, node, depth)
        finally:
            self.path.pop()

    def visit_group(self, node, depth):
        total = 0
        for child in node.children:
            if child.kind == "item":
                total += self.walk(child, depth + 1)
            else:
                total += self.descend(child, depth + 1)
        self.store(node, depth, total)
        return total

    def descend(self, node, depth):
        return self.walk(node, depth)

    def visit_item(self, node, depth):
        weight = node.attrs.get("qty", 1)
        for child in node.children:
            weight += self.walk(child, depth + 1)
        if self.budget > 0:
            self.budget -= 1
            self.keep_part(node, depth, weight)
        return weight

    def visit_bundle(self, node, depth):
        members = []
        for child in node.children:
            members.append(self.walk(child, depth + 1))
        if self.budget > 0:
            self.budget -= 1
            models.Bundle.objects.create(key=self.key(node), members=members)
        return sum(members)

    def visit_alias(self, node, depth):
        if not node.children:
            return self.leaf(node, depth)
        first = self.walk(node.children[0], depth + 1)
        return first + sum(self.descend(c, depth + 1) for c in node.children[1:])

    def leaf(self, node, depth):
        if self.budget > 0:
            self.budget -= 1
            cache.RESULTS.put(self.key(node), (depth, node.name, self.request_id))
        return 1

    def key(self, node):
        return "%d:%s:%d" % (self.request_id, "/".join(self.path[-3:]), self.stored)

    def store(self, node, depth, total):
        self.stored += 1
        if self.budget > 0:
            self.budget -= 1
            models.summary(node.kind, depth % 5)
            cache.RESULTS.remember(self.key(node), self.make_result, node, depth, total)

    def make_result(self, node, depth, total):
        return [depth, total, node.name]

    def keep_part(self, node, depth, weight):
        self.stored += 1
        models.Part.objects.create(key=self.key(node), path=self.path[-4:], weight=weight)


VISITORS = {
    "group": Walker.visit_group,
    "item": Walker.visit_item,
    "bundle": Walker.visit_bundle,
    "alias": Walker.visit_alias,
}
'''

MODULES["service.py"] = '''
"""Request handlers: parse the payload, walk it, store the results, audit."""
from . import cache, catalog, models, settings, textparse

KINDS = ("group", "item", "bundle", "alias")


def handle(request_id, payload, country):
    handler = HANDLERS[request_id % len(HANDLERS)]
    return handler(request_id, payload, country)


def handle_import(request_id, payload, country):
    tree = catalog.from_parsed(textparse.Parser(payload).parse())
    walker = catalog.Walker(request_id, 40)
    total = walker.walk(tree, 0)
    audit(request_id, "import", total)
    return total


def handle_update(request_id, payload, country):
    product = models.product_for("p%d" % request_id, country)
    tree = catalog.from_parsed(textparse.Parser(payload).parse())
    total = catalog.Walker(request_id, 30).walk(tree, 0)
    if request_id % 3 == 0:
        audit(request_id, product.describe(), total)
    return total


def handle_query(request_id, payload, country):
    parsed = textparse.Parser(payload).parse()
    found = models.Part.objects.filter(weight=request_id)
    cache.RESULTS.remember(("query", request_id), lambda: (parsed[0], len(found)))
    return len(found)


def audit(request_id, what, total):
    models.AuditEvent.objects.create(
        key="a%d" % request_id,
        message=settings.MESSAGES[request_id % 2500] + what,
        stamp=total,
    )


HANDLERS = (handle_import, handle_update, handle_import, handle_query, handle_update)
'''

MODULES["main.py"] = '''
"""The request loop: payloads are nested records of a few hundred shapes
(most requests look like earlier ones; a few are new), and the caches grow."""
import random

from . import service, settings

SHAPES = 5000


def shape(rng, depth, room):
    """A random record tree: one spine `room[1]` deep, short side branches."""
    room[0] -= 1
    if depth >= room[1] or (depth > room[1] // 2 and room[0] <= 0):
        return ("alias", ())
    children = [shape(rng, depth + 1, room)]
    if room[0] > 0 and rng.random() < 0.3:
        children.insert(rng.randrange(2), ("item", ()))
    return (rng.choice(service.KINDS), tuple(children))


def render(rng, node):
    kind, children = node
    if kind == "alias" and not children:
        return "(alias name=l%d)" % rng.randrange(50)
    attrs = "name=%s%d qty=%d tag=w%d" % (kind[0], rng.randrange(9), rng.randrange(9), rng.randrange(1200))
    return "(%s %s %s)" % (kind, attrs, " ".join(render(rng, c) for c in children))


def run(requests, seed):
    rng = random.Random(seed)
    shapes = [shape(rng, 0, [40, rng.randrange(8, 60)]) for _ in range(SHAPES)]
    total = 0
    for request_id in range(requests):
        country = settings.COUNTRIES[rng.randrange(len(settings.COUNTRIES))]
        if rng.random() < 0.33:
            tree = shape(rng, 0, [40, rng.randrange(8, 60)])
        else:
            tree = shapes[min(int(rng.paretovariate(0.6)) - 1, SHAPES - 1)]
        total += service.handle(request_id, render(rng, tree), country)
    return total
'''


PACKAGE_DIR = "/srv/shopapp"


class SourceLoader(importlib.machinery.SourceFileLoader):
    """importlib's own loader for .py files, reading the sources above under
    fixed names (/srv/shopapp/...), so that dumps of separate runs compare."""

    def get_data(self, path):
        name = os.path.basename(path)
        if os.path.dirname(path) == PACKAGE_DIR and name in SOURCES:
            return SOURCES[name]
        raise OSError(path)

    def path_stats(self, path):
        raise OSError(path)


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if parts[0] != "shopapp" or len(parts) > 2:
            return None
        name = "__init__.py" if len(parts) == 1 else parts[1] + ".py"
        if name not in SOURCES:
            return None
        filename = os.path.join(PACKAGE_DIR, name)
        return importlib.util.spec_from_file_location(
            fullname, filename, loader=SourceLoader(fullname, filename),
            submodule_search_locations=[PACKAGE_DIR] if len(parts) == 1 else None)


SOURCES = {name: textwrap.dedent(source).lstrip().encode() for name, source in MODULES.items()}
SOURCES["__init__.py"] = b'"""A small shop application (generated by app_gen.py)."""\n'


def main(argv):
    if len(argv) < 2 or len(argv) > 4:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    scale = float(argv[2]) if len(argv) > 2 else 8
    seed = int(argv[3]) if len(argv) > 3 else 0
    # The same string hashes (hence dict orders and sizes) on every run.
    if os.environ.get("PYTHONHASHSEED") != str(seed):
        os.environ["PYTHONHASHSEED"] = str(seed)
        os.execv(sys.executable, [sys.executable] + argv)
    sys.setrecursionlimit(10000)
    sys.dont_write_bytecode = True
    sys.meta_path.insert(0, Finder())
    tracemalloc.start(25)
    import shopapp.main  # noqa: E402  (import-time allocations are traced)

    shopapp.main.run(int(scale * 1000), seed)
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    snapshot.dump(out)
    traces = snapshot.traces._traces
    distinct = len({id(t[2]) for t in traces})
    print(len(traces), "traces,", distinct, "distinct tracebacks,",
          sum(1 for t in traces if t[3] > 25), "truncated,", os.path.getsize(out), "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
