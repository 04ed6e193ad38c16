"""The exceptions heapgraph raises.

Every error is a :class:`HeapgraphError`; its message is the one the
``heapgraph`` command line prints (file, byte offset and what was wrong).
``path`` is the file concerned (or ``None``) and ``offset`` the byte offset
named in the message (or ``None``).
"""

from __future__ import annotations

import re
from typing import Optional

_OFFSET = re.compile(r"at byte (0x[0-9a-fA-F]+|[0-9]+)")


class HeapgraphError(Exception):
    """Base class of heapgraph's errors."""

    path: Optional[str]
    offset: Optional[int]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.path = None
        found = _OFFSET.findall(message)
        self.offset = int(found[-1], 0) if found else None

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ReadError(HeapgraphError, OSError):
    """The file could not be read (missing, unreadable)."""


class InvalidDumpError(HeapgraphError, ValueError):
    """The dump is truncated, corrupt or malformed."""


class UnsupportedFormatError(InvalidDumpError):
    """The file is not a heap dump heapgraph reads."""


class ObjectNotFoundError(HeapgraphError, LookupError):
    """No object with the given id is in the dump."""


class AnalysisError(HeapgraphError, ValueError):
    """The analysis cannot be done on these inputs (e.g. mixed formats)."""


class NotEnoughMemoryError(HeapgraphError, MemoryError):
    """The dump's analysis is estimated to need more memory than is available
    (the machine's, or the memory cgroup's limit); the message says how much.
    Refused before parsing; ``open(..., memory_check=False)`` tries anyway."""


__all__ = [
    "HeapgraphError",
    "ReadError",
    "InvalidDumpError",
    "UnsupportedFormatError",
    "ObjectNotFoundError",
    "AnalysisError",
    "NotEnoughMemoryError",
]
