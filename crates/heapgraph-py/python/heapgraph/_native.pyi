"""Type stubs of the compiled module ``heapgraph._native``.

Users call the wrappers in ``heapgraph``; each ``ArrowStream`` below is an
Arrow C stream (``__arrow_c_stream__``) of one record batch.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

__version__: str

_FilterSpec = Tuple[bool, bool, Optional[str], Optional[int], bool, Optional[int]]

class ArrowStream:
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...

class Snapshot:
    @property
    def path(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def producer(self) -> str: ...
    @property
    def node_count(self) -> int: ...
    @property
    def edge_count(self) -> int: ...
    @property
    def ids_are_stable(self) -> bool: ...
    @property
    def total_size(self) -> int: ...
    def overview_html(self, max_classes: int) -> str: ...
    def summary(self) -> Dict[str, Any]: ...
    def histogram(
        self, sort: str = "retained", top: int = 0, pattern: Optional[str] = None
    ) -> ArrowStream: ...
    def top_consumers(
        self,
        by: str = "package",
        sort: str = "retained",
        top: int = 0,
        pattern: Optional[str] = None,
    ) -> ArrowStream: ...
    def threads(self) -> ArrowStream: ...
    def collections(self, top: int = 0) -> ArrowStream: ...
    def nodes(self) -> ArrowStream: ...
    def edges(self) -> ArrowStream: ...
    def dominators(self, top: int = 10, depth: int = 1) -> ArrowStream: ...
    def dominators_by_class(
        self, of_class: str, skip: Sequence[str] = ..., top: int = 0
    ) -> ArrowStream: ...
    def object(self, id: int) -> Dict[str, Any]: ...
    def retainers(self, id: int, paths: int = 3) -> ArrowStream: ...
    def suspects(self, threshold: float = 0.1) -> ArrowStream: ...
    def duplicate_strings(self, top: int = 0) -> ArrowStream: ...
    def sites(
        self,
        by: str = "lineno",
        cumulative: bool = False,
        compare_to: Optional[Snapshot] = None,
        filters: Sequence[_FilterSpec] = ...,
        top: int = 0,
    ) -> ArrowStream: ...

def open(
    path: str,
    size_model: str = "mat",
    weak_referents: str = "count",
    memory_map: bool = True,
    dump: int = 1,
    memory_check: bool = True,
) -> Snapshot: ...
def diff(old: Snapshot, new: Snapshot, top: int = 0) -> ArrowStream: ...
def leaks(
    baseline: Snapshot,
    target: Snapshot,
    final_: Snapshot,
    top: int = 0,
    all_objects: bool = False,
    ignore: List[str] = ...,
    builtin_ignores: bool = True,
    members: bool = False,
) -> ArrowStream: ...
def trend(
    snapshots: List[Union[Snapshot, str]],
    top: int = 0,
    size_model: str = "mat",
    weak_referents: str = "count",
    memory_map: bool = True,
    paths: bool = False,
) -> ArrowStream: ...
