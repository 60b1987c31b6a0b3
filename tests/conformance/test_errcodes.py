"""Every errcode the code base can produce follows the spec's namespacing rule.

Spec codes start with ``M_`` and must be codes the spec defines (extracted from the spec's
prose and OpenAPI files); this server's own codes are ``OWN_NAMESPACE + "_" + NAME`` (a
reverse-DNS namespace in capitals followed by a single ``_``). Sources: every MatrixError
subclass (all modules imported first), and errcode string literals found in the source.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import homeserver
from homeserver import errors
from homeserver.errors import OWN_NAMESPACE

from helpers.spec_operations import SPEC_DIR

PACKAGE_DIR = Path(homeserver.__file__).resolve().parent
SPEC_CODE = re.compile(r"\bM_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
# Codes the spec text uses only to illustrate the error format.
SPEC_ILLUSTRATIONS = {"M_EXAMPLE_ERROR"}
# Codes an MSC this server serves defines, which clients match exactly: MSC4186 (simplified
# sliding sync; matrix-rust-sdk restarts its connection on M_UNKNOWN_POS).
MSC_CODES = {"M_UNKNOWN_POS"}
OWN_CODE = re.compile(rf"^{re.escape(OWN_NAMESPACE)}_[A-Z0-9]+(?:_[A-Z0-9]+)*$")
# errcode = "X", "errcode": "X", errcode="X" (keyword argument); f-strings included.
ERRCODE_LITERAL = re.compile(
    r"""(?:\berrcode\b["']?\s*[:=]\s*|["']errcode["']\s*:\s*)f?(["'])(?P<code>[^"'\n]+)\1""")
ANY_M_LITERAL = re.compile(r"""["'](?P<code>M_[A-Z0-9_]+)["']""")


def spec_codes() -> set[str]:
    codes = set()
    for folder in ("content", "data"):
        for path in (SPEC_DIR / folder).rglob("*"):
            if path.suffix in (".md", ".yaml", ".yml", ".json") and path.is_file():
                codes.update(SPEC_CODE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return codes - SPEC_ILLUSTRATIONS


@pytest.fixture(scope="module")
def known_spec_codes():
    if not (SPEC_DIR / "content").is_dir():
        pytest.skip(f"THE MATRIX SPEC IS NOT AT {SPEC_DIR} (set MATRIX_SPEC_DIR): M_ codes "
                    "could not be compared with the spec")
    codes = spec_codes()
    assert {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_NOT_JSON"} <= codes
    return codes | MSC_CODES


def import_everything() -> None:
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="homeserver."):
        importlib.import_module(info.name)


def source_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def literal_errcodes() -> list[tuple[str, str]]:
    """(where, code) for errcode literals in the source; f"{OWN_NAMESPACE}_X" is resolved."""
    found = []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        for pattern in (ERRCODE_LITERAL, ANY_M_LITERAL):
            for match in pattern.finditer(text):
                code = match.group("code").replace("{OWN_NAMESPACE}", OWN_NAMESPACE)
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{path.relative_to(PACKAGE_DIR.parent)}:{line}", code))
    return found


def namespacing_problem(code: str, spec: set[str] | None) -> str | None:
    if code.startswith("M_"):
        if spec is not None and code not in spec:
            return "is not an errcode the spec defines"
        return None
    if OWN_CODE.match(code):
        return None
    return f"is neither a spec M_ code nor {OWN_NAMESPACE}_<NAME>"


def test_own_namespace_is_reverse_dns_in_capitals():
    assert re.fullmatch(r"[A-Z][A-Z0-9-]*(\.[A-Z][A-Z0-9-]*)+", OWN_NAMESPACE)
    assert "_" not in OWN_NAMESPACE


def test_error_classes_use_namespaced_codes(known_spec_codes):
    import_everything()
    classes = errors.all_error_classes()
    assert len(classes) > 30
    problems = []
    for cls in classes:
        problem = namespacing_problem(cls.errcode, known_spec_codes)
        if problem:
            problems.append(f"{cls.__module__}.{cls.__qualname__}: {cls.errcode!r} {problem}")
        if not 400 <= cls.status <= 599:
            problems.append(f"{cls.__module__}.{cls.__qualname__}: status {cls.status}")
    assert not problems, "\n".join(problems)


def test_errcode_literals_in_the_source_are_namespaced(known_spec_codes):
    literals = literal_errcodes()
    assert any(code == "M_FORBIDDEN" for _, code in literals)
    problems = [f"{where}: {code!r} {problem}" for where, code in literals
                if (problem := namespacing_problem(code, known_spec_codes))]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_bad_codes(known_spec_codes):
    assert namespacing_problem("M_MADE_UP_CODE", known_spec_codes)
    assert namespacing_problem("HOMESERVER_BUSY", known_spec_codes)
    assert namespacing_problem(f"{OWN_NAMESPACE}__DOUBLE", known_spec_codes)
    assert namespacing_problem(f"{OWN_NAMESPACE.lower()}_LOWER", known_spec_codes)
    assert namespacing_problem(f"{OWN_NAMESPACE}_DATABASE_BUSY", known_spec_codes) is None
    assert namespacing_problem("M_LIMIT_EXCEEDED", known_spec_codes) is None
    sample = 'raise X(errcode="ORG.OTHER_THING")\nbody = {"errcode": "M_NOPE"}\n'
    codes = [m.group("code") for m in ERRCODE_LITERAL.finditer(sample)]
    assert codes == ["ORG.OTHER_THING", "M_NOPE"]
