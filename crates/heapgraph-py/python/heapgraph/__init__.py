"""Heap-dump analysis for notebooks: V8, Java HPROF and CPython tracemalloc.

>>> import heapgraph
>>> snap = heapgraph.open("heap.hprof.gz")          # doctest: +SKIP
>>> snap.histogram(top=10).to_pandas()              # doctest: +SKIP

:func:`open` reads any supported dump (the format is detected from the
content; ``.gz`` is fine) into a :class:`Snapshot`. Its analyses return
:class:`pyarrow.Table` objects built in Rust and handed over without copying
(Arrow PyCapsule interface), so ``.to_pandas()`` and ``polars.from_arrow``
work. Column names and numbers are those of the ``heapgraph`` command line's
``--json`` output and ``export``. Long work releases the GIL; errors raise
:class:`HeapgraphError` subclasses with the command line's messages.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional, Sequence, Union

import pyarrow as pa

from . import _native
from ._errors import (
    AnalysisError,
    HeapgraphError,
    InvalidDumpError,
    NotEnoughMemoryError,
    ObjectNotFoundError,
    ReadError,
    UnsupportedFormatError,
)

__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]


def _table(stream: Any) -> pa.Table:
    """Imports a native Arrow stream as a pyarrow Table (zero-copy)."""
    return pa.RecordBatchReader.from_stream(stream).read_all()


def _parse_id(object_id: Union[int, str]) -> int:
    """An object id: an int, or text in decimal, ``0x`` hex or ``@id``."""
    if isinstance(object_id, bool):
        raise TypeError("an object id must be an int or a string")
    if isinstance(object_id, int):
        if object_id < 0:
            raise ObjectNotFoundError(f"no object with id {object_id} in this dump")
        return object_id
    text = str(object_id).strip().lstrip("@")
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise ValueError(
            f"object id {object_id!r} is not a number (use decimal, 0x-hex or @id)"
        ) from None


def _filter_spec(item: Any) -> tuple:
    """A filter for :meth:`Snapshot.sites` as the native module takes it."""
    if isinstance(item, str):
        return (False, True, item, None, False, None)
    if not hasattr(item, "inclusive"):
        raise TypeError(
            "filters must be tracemalloc.Filter / tracemalloc.DomainFilter objects "
            f"or filename patterns, not {type(item).__name__}"
        )
    if not hasattr(item, "filename_pattern"):
        return (True, bool(item.inclusive), None, None, False, int(item.domain))
    domain = getattr(item, "domain", None)
    lineno = getattr(item, "lineno", None)
    return (
        False,
        bool(item.inclusive),
        str(item.filename_pattern),
        None if lineno is None else int(lineno),
        bool(getattr(item, "all_frames", False)),
        None if domain is None else int(domain),
    )


class Snapshot:
    """A parsed heap dump. Create it with :func:`open`.

    The analysis (dominator tree, retained sizes, distances, classes) is
    computed once, the first time a method needs it, without the GIL.
    """

    __slots__ = ("_native", "_options")

    def __init__(self, native: Any, options: dict) -> None:
        self._native = native
        self._options = options

    @property
    def path(self) -> str:
        """The file the snapshot was read from."""
        return self._native.path

    @property
    def format(self) -> str:
        """``"hprof"``, ``"v8"`` (.heapsnapshot), ``"v8_heapprofile"`` or ``"tracemalloc"``."""
        return self._native.format

    @property
    def producer(self) -> str:
        """The producer the file names, e.g. ``"Node.js (V8)"``."""
        return self._native.producer

    @property
    def node_count(self) -> int:
        """Nodes in the graph (objects plus synthetic root nodes)."""
        return self._native.node_count

    @property
    def edge_count(self) -> int:
        """References in the graph."""
        return self._native.edge_count

    @property
    def total_size(self) -> int:
        """The sum of all shallow sizes, in bytes (``summary``'s ``total_size``)."""
        return self._native.total_size

    @property
    def ids_are_stable(self) -> bool:
        """Whether object ids identify the same object across snapshots."""
        return self._native.ids_are_stable

    def summary(self) -> dict:
        """The scalar fields of ``heapgraph summary --json`` as a dict."""
        return self._native.summary()

    def histogram(
        self, sort: str = "retained", top: int = 0, pattern: Optional[str] = None
    ) -> pa.Table:
        """Per class: ``class, count, shallow_size, retained_size``.

        ``sort`` is ``"retained"``, ``"shallow"`` or ``"count"`` (largest
        first); ``top`` keeps the first rows (0 = all); ``pattern`` keeps
        classes matching a glob (``*``, ``?``). A class's retained size counts
        each instance once.
        """
        return _table(self._native.histogram(sort, top, pattern))

    def top_consumers(
        self,
        by: str = "package",
        sort: str = "retained",
        top: int = 0,
        pattern: Optional[str] = None,
    ) -> pa.Table:
        """Instances grouped by ``"package"`` or ``"classloader"`` (Eclipse
        MAT's Top Consumers; the CLI's ``histogram --by``; HPROF only):
        ``group, loader_id, classes, count, shallow_size, retained_size``,
        each object counted once. ``sort``, ``top`` and ``pattern`` (a glob
        over group names) as in :meth:`histogram`."""
        return _table(self._native.top_consumers(by, sort, top, pattern))

    def duplicate_arrays(self, top: int = 0) -> pa.Table:
        """Primitive arrays of one type with equal contents (HPROF; the
        CLI's ``strings --arrays``; the strings' own arrays are left to
        :meth:`duplicate_strings`): ``type, length, count, total_size,
        wasted_size, example_ids``, most wasted first."""
        return _table(self._native.duplicate_arrays(top))

    def android_leaks(self) -> pa.Table:
        """Android objects whose lifecycle has ended but that are still
        strongly reachable, as LeakCanary decides it (the CLI's
        ``android-leaks``): ``id, class, kind, reason, retained_size,
        library_leak, gc_root, path_ids, path`` (the path as
        ``Class.field -> ...``, known library leaks marked)."""
        return _table(self._native.android_leaks())

    def collections(self, top: int = 0) -> pa.Table:
        """Java collections grouped by class and the field that holds them,
        most wasted bytes first: ``class, holder, count, empty, size,
        capacity, fill_ratio, wasted_bytes`` (the CLI's ``collections``;
        metadata ``collection_count`` and ``wasted_bytes``)."""
        return _table(self._native.collections(top))

    def threads(self) -> pa.Table:
        """The threads of a Java heap dump, one row per stack frame
        (innermost first; a thread without a stack has one row of nulls):
        ``thread_id, thread_name, state, retained_size, depth, function,
        file, line, local_ids, locals_retained_size`` (the CLI's
        ``threads``; Eclipse MAT's Thread Overview)."""
        return _table(self._native.threads())

    def nodes(self) -> pa.Table:
        """Every node, with the columns of ``heapgraph export --what nodes``:
        ``index, id, kind, name, self_size, shallow_size, retained_size,
        dominator_id, distance`` (``dominator_id`` is the immediate
        dominator's ``id``, null for the root and unreachable nodes;
        ``distance`` is null for unreachable nodes)."""
        return _table(self._native.nodes())

    def edges(self) -> pa.Table:
        """Every reference: ``source_index, source_id, target_index,
        target_id, kind, name`` (``export --what edges``)."""
        return _table(self._native.edges())

    def dominators(self, top: int = 10, depth: int = 1) -> pa.Table:
        """The dominator tree from the top-level objects, flattened in
        pre-order: ``depth, parent_id, index, id, kind, class, name,
        shallow_size, retained_size``. ``top`` children per node (0 = all),
        ``depth`` levels (1 = the top-level dominators only)."""
        return _table(self._native.dominators(top, depth))

    def dominators_by_class(
        self, of_class: str, skip: Sequence[str] = (), top: int = 0
    ) -> pa.Table:
        """The immediate dominators of the instances of the classes whose
        name matches the glob ``of_class``, grouped by the dominator's class
        (Eclipse MAT's "Immediate Dominators"; the CLI's ``dominators
        --of-class``): ``class, dominators, dominators_retained_size,
        dominated, dominated_shallow_size, dominated_retained_size``, each
        object counted once. Dominators whose class matches a glob in
        ``skip`` are looked through to their own dominator. The table's
        metadata has ``member_count``."""
        return _table(self._native.dominators_by_class(of_class, list(skip), top))

    def object(self, object_id: Union[int, str]) -> dict:
        """One object: ``index, id, kind, class, name, self_size,
        shallow_size, retained_size, distance, dominator_id``."""
        return self._native.object(_parse_id(object_id))

    def retainers(self, object_id: Union[int, str], paths: int = 3) -> pa.Table:
        """What references an object, and its shortest paths from GC roots.

        Columns ``path, step, edge_kind, edge_name, strong, index, id, kind,
        class, name, shallow_size, retained_size``. Rows with a null ``path``
        are the direct retainers (the node columns describe the retaining
        object; ``strong`` is false for references paths do not follow).
        Rows with ``path == k`` are the steps of the k-th shortest path from
        a GC root, root first (the node columns describe the object each step
        reaches); the schema metadata ``path_count`` counts the paths found
        (a GC root's own path has no steps). ``object_id`` is the id as the dump writes it (int, or
        ``"0x…"`` / ``"@…"`` text).
        """
        return _table(self._native.retainers(_parse_id(object_id), paths))

    def suspects(self, threshold: float = 0.10) -> pa.Table:
        """Objects and classes retaining at least ``threshold`` (a share, 0–1)
        of the heap, Eclipse MAT's leak suspects: ``kind, class,
        retained_size, share, object_*, instance_count,
        accumulation_point_*, path_ids, path``."""
        return _table(self._native.suspects(threshold))

    def query(self, sql: str) -> pa.Table:
        """Answers ``sql`` over the dump's tables (``nodes``, ``edges``,
        ``classes``, ``roots``, ``strings``, ``sites``, ``collections``) and
        table functions (``retainers(id)``, ``path_to_root(id, k)``,
        ``dominated_by(id)``) with the Apache DataFusion engine the CLI's
        ``query`` uses; see docs/sql.md. Tables are built only when the
        query reads them, and the analysis is shared with the other
        methods."""
        return _table(self._native.query(sql))

    def duplicate_strings(self, top: int = 0) -> pa.Table:
        """Equal string values held by several objects: ``value, count,
        total_size, wasted_size, example_ids`` (V8 and HPROF dumps)."""
        return _table(self._native.duplicate_strings(top))

    def sites(
        self,
        by: str = "lineno",
        cumulative: bool = False,
        compare_to: Optional["Snapshot"] = None,
        filters: Iterable[Any] = (),
        top: int = 0,
    ) -> pa.Table:
        """Allocation-site statistics with tracemalloc's exact semantics.

        Like ``tracemalloc.Snapshot.filter_traces(filters).statistics(by,
        cumulative)`` (or ``.compare_to(old, by, cumulative)`` with
        ``compare_to``), in the same order. ``filters`` takes
        ``tracemalloc.Filter`` / ``tracemalloc.DomainFilter`` objects, or
        plain strings as inclusive filename patterns. Columns ``filename,
        lineno`` (most recent frame), ``traceback`` (list of ``{filename,
        lineno}``, oldest first, as Python indexes a ``Traceback``), ``size,
        count`` and, when comparing, ``size_diff, count_diff``.
        """
        old = None if compare_to is None else _native_of(compare_to)
        specs = [_filter_spec(f) for f in filters]
        return _table(self._native.sites(by, cumulative, old, specs, top))

    def __repr__(self) -> str:
        return (
            f"<heapgraph.Snapshot {self.format} {self.path!r}: "
            f"{self.node_count:,} nodes, {self.edge_count:,} edges>"
        )

    def _repr_html_(self) -> str:
        # The overview and top classes of `heapgraph report`'s page, from
        # the same template.
        return self._native.overview_html(5)


def _native_of(snapshot: Any) -> Any:
    if isinstance(snapshot, Snapshot):
        return snapshot._native
    raise TypeError(f"expected a heapgraph.Snapshot, not {type(snapshot).__name__}")


def open(
    path: PathLike,
    size_model: str = "mat",
    weak_referents: str = "count",
    memory_map: bool = True,
    dump: int = 1,
    memory_check: bool = True,
) -> Snapshot:
    """Opens and parses a heap dump of any supported format (``.gz`` fine).

    ``size_model`` (HPROF): ``"mat"`` (Eclipse MAT, matches ``jcmd
    GC.class_histogram``) or ``"raw"`` (sizes as written, NetBeans/VisualVM).
    ``weak_referents`` (HPROF): ``"count"`` weak/soft referents in retained
    sizes (MAT) or ``"ignore"`` them (NetBeans). ``memory_map``: map plain
    files instead of reading them (the file must not change while open).
    ``dump`` (HPROF): for files holding several heap dumps (the JVMTI
    ``hprof`` agent writes one per request), which one to read, from 1.
    ``memory_check``: refuse up front, with :class:`NotEnoughMemoryError`
    (a ``MemoryError``) saying how much it needs, a V8 or HPROF dump whose
    analysis is estimated not to fit in the memory available; ``False``
    tries anyway.

    Raises :class:`ReadError`, :class:`InvalidDumpError` or
    :class:`UnsupportedFormatError` with the command line's message.
    """
    options = dict(
        size_model=size_model, weak_referents=weak_referents, memory_map=memory_map
    )
    native = _native.open(
        os.fspath(path), size_model, weak_referents, memory_map, dump, memory_check
    )
    return Snapshot(native, options)


def _snapshot(item: Union[Snapshot, PathLike], options: dict) -> Snapshot:
    return item if isinstance(item, Snapshot) else open(item, **options)


def _options(size_model: str, weak_referents: str, memory_map: bool) -> dict:
    return dict(
        size_model=size_model, weak_referents=weak_referents, memory_map=memory_map
    )


def diff(
    old: Union[Snapshot, PathLike],
    new: Union[Snapshot, PathLike],
    top: int = 0,
    *,
    size_model: str = "mat",
    weak_referents: str = "count",
) -> pa.Table:
    """Per class changes between two snapshots (``heapgraph diff``).

    Columns ``class, old_count, new_count, count_delta, old_shallow_size,
    new_shallow_size, shallow_size_delta, old_retained_size,
    new_retained_size, retained_size_delta, new_objects, new_objects_size,
    deleted_objects, deleted_objects_size`` (the object columns are null
    when ids are not stable); the schema metadata ``matching`` is ``id`` or
    ``class``. Paths are opened with the given options.
    """
    options = _options(size_model, weak_referents, True)
    a, b = _snapshot(old, options), _snapshot(new, options)
    return _table(_native.diff(a._native, b._native, top))


def leaks(
    baseline: Union[Snapshot, PathLike],
    target: Union[Snapshot, PathLike],
    final: Union[Snapshot, PathLike],
    top: int = 0,
    *,
    all_objects: bool = False,
    ignore: Sequence[str] = (),
    builtin_ignores: bool = True,
    size_model: str = "mat",
    weak_referents: str = "count",
) -> pa.Table:
    """memlab's three-snapshot leak detection (``heapgraph leaks``).

    With stable ids (V8): one row per leak cluster, ``class, count,
    object_count, retained_size, detached_dom, shape, example_*, path_ids,
    path, member_ids``; V8 candidates go through memlab's default leak
    filter (detached DOM, unmounted React Fibers, ...) unless
    ``all_objects`` (memlab's ``--trace-all-objects``); ``ignore`` patterns
    and the built-in list (``builtin_ignores``) leave known leaks out, as
    ``--ignore`` does. Otherwise: classes that grew from baseline to target and stayed
    grown, ``class, baseline_count, target_count, final_count,
    baseline_shallow_size, target_shallow_size, final_shallow_size``. The
    schema metadata says which (``matching``: ``id`` or ``class``),
    ``candidate_count``, ``leak_count`` and ``ignored_count``.
    """
    options = _options(size_model, weak_referents, True)
    snaps = [_snapshot(s, options) for s in (baseline, target, final)]
    return _table(
        _native.leaks(*(s._native for s in snaps), top, all_objects, list(ignore), builtin_ignores)
    )


def leak_members(
    baseline: Union[Snapshot, PathLike],
    target: Union[Snapshot, PathLike],
    final: Union[Snapshot, PathLike],
    top: int = 0,
    *,
    all_objects: bool = False,
    ignore: Sequence[str] = (),
    builtin_ignores: bool = True,
    size_model: str = "mat",
    weak_referents: str = "count",
) -> pa.Table:
    """Every leaked object of :func:`leaks`' clusters, one row each:
    ``cluster`` (the cluster's rank in :func:`leaks`, from 1) and the
    object's ``index, id, kind, class, name, shallow_size,
    retained_size``. Empty where ids are not stable (no clusters)."""
    options = _options(size_model, weak_referents, True)
    snaps = [_snapshot(s, options) for s in (baseline, target, final)]
    return _table(
        _native.leaks(
            *(s._native for s in snaps), top, all_objects, list(ignore), builtin_ignores, True
        )
    )


def trend(
    snapshots: Sequence[Union[Snapshot, PathLike]],
    top: int = 0,
    *,
    size_model: str = "mat",
    weak_referents: str = "count",
) -> pa.Table:
    """Growth per class over snapshots, oldest first (``heapgraph trend``).

    Columns ``class, counts, shallow_sizes`` (lists, one item per snapshot),
    ``bytes_per_snapshot, count_per_snapshot, r_squared, monotonic_growth,
    growing``. Paths are opened one at a time, so long series fit in memory.
    """
    items: List[Any] = [
        s._native if isinstance(s, Snapshot) else os.fspath(s) for s in snapshots
    ]
    return _table(_native.trend(items, top, size_model, weak_referents, True))


def growing_paths(
    snapshots: Sequence[Union[Snapshot, PathLike]],
    top: int = 0,
    *,
    size_model: str = "mat",
    weak_referents: str = "count",
) -> pa.Table:
    """Retention paths whose object count grew from every snapshot to the
    next (``heapgraph trend``'s growing paths), for dumps whose ids are not
    stable: objects are matched by the classes and field names of their
    shortest path from a GC root (for tracemalloc, by allocation traceback).

    Columns ``shape, class, counts, shallow_sizes, retained_sizes`` (lists,
    one item per snapshot), largest retained growth first. Paths are opened
    one at a time.
    """
    items: List[Any] = [
        s._native if isinstance(s, Snapshot) else os.fspath(s) for s in snapshots
    ]
    return _table(_native.trend(items, top, size_model, weak_referents, True, True))


def redact(
    input: PathLike,
    output: PathLike,
    *,
    names: bool = False,
    salt: Optional[str] = None,
) -> dict:
    """Write a copy of a dump that can be shared without its secrets
    (``heapgraph redact``): every string value and primitive array (Java),
    string value (V8) and unused symbol is replaced by a keyed permutation of
    the same length, so equal values stay equal and duplicate analysis finds
    the same groups; objects, references, sizes, ids, roots and stacks are
    unchanged. ``names=True`` also gives application class, field, function,
    property and file names stable pseudonyms. The key is random unless
    ``salt`` is given (redact several dumps with one salt to compare them);
    it is never written. ``output`` ending in ``.gz`` is compressed.

    Returns the ``redact --json`` counts; ``names_map`` maps each original
    name to its pseudonym (keep it private).
    """
    return _native.redact(os.fspath(input), os.fspath(output), names, salt)


def metadata(table: pa.Table) -> dict:
    """A table's schema metadata as a ``str -> str`` dict."""
    raw = table.schema.metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items()}


__all__ = [
    "open",
    "diff",
    "leaks",
    "leak_members",
    "trend",
    "growing_paths",
    "redact",
    "metadata",
    "Snapshot",
    "HeapgraphError",
    "ReadError",
    "InvalidDumpError",
    "UnsupportedFormatError",
    "ObjectNotFoundError",
    "AnalysisError",
    "NotEnoughMemoryError",
]
