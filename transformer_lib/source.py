"""Show library code in the book: ``show_source(obj, start=..., end=...)``.

Chapters print the library's own source instead of retyping it, so the book and the
code cannot drift apart. To show part of a function, mark the part in the library with
comments that name it,

    # [book: cache-append]
    ...the lines to show...
    # [/book: cache-append]

and call ``show_source(KVCache.append, "cache-append")``. Markers survive reformatting,
unlike slicing the source at literal text.
"""
from __future__ import annotations

import inspect
import re
import textwrap

__all__ = ["get_source", "show_source"]

_MARK = re.compile(r"^\s*# \[(/?)book: ([\w.-]+)\]\s*$")


def get_source(obj, part: str | None = None) -> str:
    """The source of ``obj`` (a function, class or module), or of its marked ``part``.

    Marker lines are left out of what is returned. Raises ``ValueError`` naming the
    part and the markers found when ``part`` is not marked in ``obj``.
    """
    if not (inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj)):
        raise TypeError(f"obj must be a function, method, class or module, got {type(obj).__name__} {obj!r:.60}")
    if part is not None and not isinstance(part, str):
        raise TypeError(f"part must be the name of a marked part (a str) or None, got {type(part).__name__}")
    lines = inspect.getsource(obj).splitlines()
    if part is None:
        return textwrap.dedent("\n".join(line for line in lines if not _MARK.match(line)))
    inside, kept, found = False, [], []
    for line in lines:
        m = _MARK.match(line)
        if m:
            closing, name = m.group(1) == "/", m.group(2)
            found.append(name)
            if name == part:
                inside = not closing
            continue
        if inside:
            kept.append(line)
    if not kept:
        names = sorted(set(found)) or "none"
        raise ValueError(
            f"part={part!r} is not marked in {getattr(obj, '__qualname__', obj)!r}; "
            f"markers found: {names}"
        )
    return textwrap.dedent("\n".join(kept))


def show_source(obj, part: str | None = None) -> None:
    """Print the source of ``obj``, or only its marked ``part`` (see the module docstring)."""
    print(get_source(obj, part))
