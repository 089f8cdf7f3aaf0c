"""Backward-compatibility rules for the published JSON Schemas (``tools/contracts.py compat``).

A schema at a base git revision is compared with the same file in a new tree. Incompatible:
a removed property, a changed type (``type``, ``format``, ``$ref`` target, a narrowed ``anyOf``),
a property newly required (or a new required property), a removed ``enum``/``const`` value and a
removed schema file. Adding optional properties, enum values or files is fine. The comparison
follows local ``$ref``s into ``$defs`` and reports JSON pointers into the base schema.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_SUFFIX = ".schema.json"
CONTRACTS = "contracts"


@dataclass(frozen=True)
class Violation:
    """One incompatible change: the file, a JSON pointer into the base schema, and what changed."""

    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}#{self.pointer}: {self.message}"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    if kind is None:
        return set()
    return {kind} if isinstance(kind, str) else set(kind)


def _covers(old: set[str], new: set[str]) -> bool:
    """Every old type is still accepted (an integer is also a number)."""
    return all(kind in new or (kind == "integer" and "number" in new) for kind in old)


def _values(node: dict[str, Any]) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    enum = node.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _describe(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"])
    if "type" in node:
        return "|".join(sorted(_types(node)))
    return json.dumps(node, sort_keys=True)


@dataclass
class _Differ:
    """Walks an old and a new schema side by side, collecting violations."""

    file: str
    old_root: dict[str, Any]
    new_root: dict[str, Any]
    violations: list[Violation] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def report(self, pointer: str, message: str) -> None:
        self.violations.append(Violation(self.file, pointer, message))

    @staticmethod
    def resolve(root: dict[str, Any], ref: str) -> dict[str, Any] | None:
        """A local ``#/...`` reference's target, or None for an external or dangling one."""
        if not ref.startswith("#"):
            return None
        target: Any = root
        for token in [p for p in ref[1:].split("/") if p]:
            part = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return None
            target = target[part]
        return target if isinstance(target, dict) else None

    def node(self, old: Any, new: Any, pointer: str) -> None:
        """Compare two schema nodes (booleans and other non-objects are not judged)."""
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_ref, new_ref = old.get("$ref"), new.get("$ref")
        if old_ref and new_ref:
            if old_ref != new_ref:
                self.report(pointer, f"$ref target changed from {old_ref} to {new_ref}")
            elif old_ref not in self.seen:
                self.seen.add(old_ref)
                self.node(
                    self.resolve(self.old_root, old_ref), self.resolve(self.new_root, new_ref), old_ref[1:]
                )
            return
        if old_ref:
            old = self.resolve(self.old_root, old_ref) or {}
        if new_ref:
            new = self.resolve(self.new_root, new_ref) or {}
        old_branches = old.get("anyOf") or old.get("oneOf")
        new_branches = new.get("anyOf") or new.get("oneOf")
        if old_branches or new_branches:
            keyword = ("anyOf" if "anyOf" in old else "oneOf") if old_branches else ""
            self.union(old_branches or [old], new_branches or [new], pointer, keyword)
        else:
            self.single(old, new, pointer)

    def matches(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Whether ``new`` is the successor of the union branch ``old``."""
        if "$ref" in old or "$ref" in new:
            return old.get("$ref") == new.get("$ref")
        old_types, new_types = _types(old), _types(new)
        if old_types or new_types:
            return bool(old_types) and _covers(old_types, new_types)
        return True

    def union(self, old: list[Any], new: list[Any], pointer: str, keyword: str) -> None:
        """Every old branch (of the old ``keyword`` union, if any) must be accepted by a new branch."""
        for index, branch in enumerate(old):
            if not isinstance(branch, dict):
                continue
            where = f"{pointer}/{keyword}/{index}" if keyword else pointer
            # an unchanged branch first, then the one at the same place: untyped branches (a oneOf
            # of property rules) all "match", and the first of them is not necessarily the successor
            order = sorted(range(len(new)), key=lambda i: (new[i] != branch, i != index))
            candidates = (new[i] for i in order if isinstance(new[i], dict))
            match = next((b for b in candidates if self.matches(branch, b)), None)
            if match is None:
                self.report(where, f"type narrowed: {_describe(branch)} no longer accepted")
            else:
                self.node(branch, match, where)

    def single(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        """Compare two non-union nodes: type, format, enum, then object/array structure."""
        old_types, new_types = _types(old), _types(new)
        if new_types and not _covers(old_types or {"any"}, new_types):
            was = "|".join(sorted(old_types)) or "any"
            self.report(pointer, f"type changed from {was} to {'|'.join(sorted(new_types))}")
            return
        if old.get("format") != new.get("format"):
            self.report(pointer, f"format changed from {old.get('format')} to {new.get('format')}")
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            removed = [v for v in old_values or [] if v not in new_values]
            if old_values is None:
                self.report(pointer, f"values restricted to {new_values}")
            elif removed:
                self.report(pointer, f"enum value(s) removed: {', '.join(map(json.dumps, removed))}")
        self.object(old, new, pointer)
        for keyword in ("items", "additionalProperties", "contains"):
            if isinstance(old.get(keyword), dict) and isinstance(new.get(keyword), dict):
                self.node(old[keyword], new[keyword], f"{pointer}/{keyword}")
        for keyword in ("prefixItems", "allOf"):
            pairs = zip(old.get(keyword) or [], new.get(keyword) or [], strict=False)
            for index, (was, now) in enumerate(pairs):
                self.node(was, now, f"{pointer}/{keyword}/{index}")

    def object(self, old: dict[str, Any], new: dict[str, Any], pointer: str) -> None:
        """Properties may be added (optional) but not removed or newly required."""
        old_props: dict[str, Any] = old.get("properties") or {}
        new_props: dict[str, Any] = new.get("properties") or {}
        for name, schema in old_props.items():
            where = f"{pointer}/properties/{_escape(name)}"
            if name not in new_props:
                self.report(where, f"property '{name}' removed")
            else:
                self.node(schema, new_props[name], where)
        old_required = set(old.get("required") or [])
        for name in [n for n in new.get("required") or [] if n not in old_required]:
            if name in old_props:
                self.report(f"{pointer}/properties/{_escape(name)}", f"property '{name}' became required")
            else:
                self.report(f"{pointer}/required", f"new required property '{name}'")


def compare_schemas(old: dict[str, Any], new: dict[str, Any], file: str = "") -> list[Violation]:
    """Incompatible changes from ``old`` to ``new`` (one schema document)."""
    differ = _Differ(file, old, new)
    differ.node(old, new, "")
    return differ.violations


def compare_trees(old: dict[str, Any], new: dict[str, Any], prefix: str = f"{CONTRACTS}/") -> list[Violation]:
    """Compare ``relative path -> schema`` maps; a schema missing from ``new`` is a violation."""
    violations: list[Violation] = []
    for name in sorted(old):
        if name not in new:
            message = "schema file removed: a published contract disappeared"
            violations.append(Violation(prefix + name, "", message))
        else:
            violations += compare_schemas(old[name], new[name], prefix + name)
    return violations


def read_tree(directory: Path) -> dict[str, Any]:
    """Every ``*.schema.json`` under ``directory``, by relative posix path."""
    return {
        path.relative_to(directory).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.rglob(f"*{SCHEMA_SUFFIX}"))
    }


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=False)


def read_git_tree(repo: Path, rev: str) -> dict[str, Any] | None:
    """The schemas under ``contracts/`` at ``rev``; None when the revision does not exist."""
    if _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        return None
    listing = _git(repo, "ls-tree", "-r", "--name-only", rev, "--", f"{CONTRACTS}/")
    names = [n for n in listing.stdout.decode().splitlines() if n.endswith(SCHEMA_SUFFIX)]
    if not names:
        return {}
    batch = _git(repo, "cat-file", "--batch", stdin="".join(f"{rev}:{n}\n" for n in names).encode())
    out, position, tree = batch.stdout, 0, {}
    for name in names:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
        tree[name[len(CONTRACTS) + 1 :]] = json.loads(body)
    return tree


def default_base(repo: Path) -> str:
    """HEAD when the work tree's ``contracts/`` differs from it, else the commit before."""
    status = _git(repo, "status", "--porcelain", "--untracked-files=all", "--", f"{CONTRACTS}/")
    return "HEAD" if status.stdout.strip() else "HEAD~1"


@dataclass(frozen=True)
class CompatResult:
    """The outcome of one compat run: violations, or a note why nothing was compared."""

    base: str
    violations: list[Violation]
    compared: int = 0
    added: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.note:
            return f"contracts compat: {self.note}; nothing to compare"
        if self.violations:
            return f"contracts compat: {len(self.violations)} incompatible change(s) against {self.base}"
        return (
            f"contracts compat: {self.compared} schemas backward compatible with {self.base}"
            f" ({self.added} new)"
        )


def run_compat(repo: Path, tree: Path, base: str | None = None) -> CompatResult:
    """Judge the schemas in ``tree`` against ``contracts/`` of ``repo`` at ``base``."""
    if _git(repo, "rev-parse", "--git-dir").returncode != 0:
        return CompatResult(base or "?", [], note=f"{repo} is not a git repository")
    rev = base or default_base(repo)
    old = read_git_tree(repo, rev)
    if old is None:
        return CompatResult(rev, [], note=f"base revision {rev} does not exist")
    if not old:
        return CompatResult(rev, [], note=f"base revision {rev} has no contracts/ schemas")
    new = read_tree(tree)
    return CompatResult(rev, compare_trees(old, new), len(old), len(set(new) - set(old)))


def compat_against_git(repo: Path, tree: Path, base: str | None = None) -> bool:
    """Print one line per violation and a summary; True when compatible."""
    result = run_compat(repo, tree, base)
    for violation in result.violations:
        print(violation)
    print(result.summary())
    return result.ok
