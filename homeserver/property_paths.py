"""Dot-separated property paths (spec appendices): push rule conditions, filter event_fields."""

from functools import lru_cache


@lru_cache(maxsize=1024)
def split_property_path(path: str) -> tuple[str, ...]:
    """``content.m\\.relates_to.rel_type`` -> ("content", "m.relates_to", "rel_type")
    (appendices: Dot-separated property paths; ``\\.`` and ``\\\\`` escape, others stay)."""
    parts, current, i = [], [], 0
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path) and path[i + 1] in ".\\":
            current.append(path[i + 1])
            i += 2
            continue
        if char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return tuple(parts)
