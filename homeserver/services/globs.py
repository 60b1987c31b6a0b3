"""Glob matching for push rules and filters, in time linear in the text matched.

Globs become RE2 regular expressions (``google-re2``): RE2 runs a DFA or, when the DFA's
memory runs out, an NFA simulation, never backtracking, so matching costs at most
O(len(pattern) * len(text)) whatever the pattern (a backtracking engine takes exponential
time on ``*a*a*a*...b`` against a long run of ``a``). Both users of globs go through here:

- push rules (spec: Push Rules, ``event_match``): ``*`` any run of characters, ``?`` exactly
  one, case-insensitive; the whole value must match, except for ``content.body`` where some
  substring bounded by word boundaries must (word characters are ``[A-Za-z0-9_]``);
- filters (spec: Filtering, ``types``/``not_types``): ``*`` any run of characters, every other
  character literal, case-sensitive, the whole event type.

Texts are encoded to UTF-8 once (lone surrogates, which JSON can carry, become ``?``) and
compiled patterns are cached. Each compiled pattern's DFA memory is capped (``MAX_MEM``), so
the cache stays small whatever patterns users store.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import re2

# Word characters for content.body matching (spec: [A-Z], [a-z], [0-9] and _).
WORD_CLASS = "A-Za-z0-9_"
# DFA memory of one compiled pattern: past it RE2 falls back to its (still linear) NFA.
MAX_MEM = 256 * 1024
# Compiled patterns kept: at most _CACHE_SIZE * MAX_MEM of DFA memory.
_CACHE_SIZE = 1024

_OPTIONS = re2.Options()
_OPTIONS.max_mem = MAX_MEM
_OPTIONS.log_errors = False


@dataclass(frozen=True)
class Limits:
    """How long a glob may be and how many wildcards it may hold (checked where a client
    stores one; matching itself is linear whatever the glob)."""

    max_length: int
    max_wildcards: int


def count_wildcards(pattern: str, question_mark: bool = True) -> int:
    return pattern.count("*") + (pattern.count("?") if question_mark else 0)


def limit_problem(pattern: str, limits: Limits, question_mark: bool = True) -> str | None:
    """Why ``pattern`` is refused under ``limits``, or None when it is acceptable."""
    if len(pattern) > limits.max_length:
        return f"a pattern may be at most {limits.max_length} characters long"
    if count_wildcards(pattern, question_mark) > limits.max_wildcards:
        return f"a pattern may hold at most {limits.max_wildcards} wildcards"
    return None


def encode(text: str) -> bytes:
    """The UTF-8 form matchers take; a lone surrogate becomes ``?`` (one character each)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace")


def _literal(char: str) -> str:
    if char.isascii():
        return char if char.isalnum() else "\\x{%02x}" % ord(char)
    if "\ud800" <= char <= "\udfff":
        return "\\x{3f}"  # as encode() turns it into "?"
    return char


def _translate(pattern: str, question_mark: bool) -> str:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?" and question_mark:
            parts.append(".")
        else:
            parts.append(_literal(char))
    return "".join(parts)


class Matcher:
    """A compiled glob. ``weight`` bounds the cost of one match: at most about
    ``weight * len(text)`` steps of RE2's slowest (NFA) mode."""

    __slots__ = ("pattern", "weight", "_regexp", "_search")

    def __init__(self, pattern: str, regex: str, search: bool):
        self.pattern = pattern
        self.weight = len(pattern) + 1
        self._search = search
        try:
            self._regexp = re2.compile(regex, _OPTIONS)
        except re2.error:
            # Too large to compile under MAX_MEM (limits at the API keep stored globs far
            # below that); such a glob matches nothing rather than failing every event.
            self._regexp = None

    def matches(self, text: str | bytes) -> bool:
        if self._regexp is None:
            return False
        data = text if isinstance(text, bytes) else encode(text)
        found = self._regexp.search(data) if self._search else self._regexp.fullmatch(data)
        return found is not None


@lru_cache(maxsize=_CACHE_SIZE)
def push_glob(pattern: str) -> Matcher:
    """``event_match`` against a whole value: case-insensitive, ``*`` and ``?``."""
    return Matcher(pattern, f"(?s)(?i:{_translate(pattern, True)})", search=False)


@lru_cache(maxsize=_CACHE_SIZE)
def push_word_glob(pattern: str) -> Matcher:
    """``event_match`` on ``content.body``: some substring bounded by word boundaries (the
    start or end of the text, or a non-word character) matches, case-insensitively."""
    body = _translate(pattern, True)
    return Matcher(pattern, f"(?s)(?:\\A|[^{WORD_CLASS}])(?i:{body})(?:[^{WORD_CLASS}]|\\z)",
                   search=True)


@lru_cache(maxsize=_CACHE_SIZE)
def word_literal(text: str) -> Matcher:
    """``text`` itself (no wildcards) as a word-bounded, case-insensitive substring: the
    ``contains_display_name`` condition."""
    body = "".join(_literal(char) for char in text)
    return Matcher(text, f"(?s)(?:\\A|[^{WORD_CLASS}])(?i:{body})(?:[^{WORD_CLASS}]|\\z)",
                   search=True)


def _filter_regex(pattern: str) -> str:
    return _translate(pattern, False)


class TypeMatcher:
    """Any of a filter's ``types``/``not_types`` entries: exact entries in a set, the globs
    (``*`` only, case-sensitive, whole type) in one alternation matched in one pass."""

    __slots__ = ("exact", "_globs")

    def __init__(self, entries: tuple):
        self.exact = frozenset(e for e in entries if "*" not in e)
        globs = sorted({e for e in entries if "*" in e})
        self._globs: list[Matcher] = []
        if globs:
            combined = Matcher("|".join(globs), "(?s)(?:" + "|".join(
                _filter_regex(g) for g in globs) + ")", search=False)
            # A very large list may not compile as one expression: match glob by glob.
            self._globs = [combined] if combined._regexp is not None else [
                Matcher(g, "(?s)" + _filter_regex(g), search=False) for g in globs]

    def matches(self, value: str) -> bool:
        if value in self.exact:
            return True
        if not self._globs:
            return False
        data = encode(value)
        return any(m.matches(data) for m in self._globs)


@lru_cache(maxsize=1024)
def type_matcher(entries: tuple) -> TypeMatcher:
    return TypeMatcher(entries)


def filter_glob_matches(glob: str, value: str) -> bool:
    """One filter glob against one value (``*`` any run, case-sensitive, whole value)."""
    return type_matcher((glob,)).matches(value)
