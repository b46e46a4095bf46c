"""The figures of issue 13 (docs/architecture.md): how many places a change to the store, the mail or a package
boundary has to go. Reads the code as text (ast), runs none of it.

    .venv/bin/python benchmarks/architecture_figures.py [CHECKOUT]

CHECKOUT defaults to this one; give another (e.g. ``git archive REV | tar -x -C /tmp/rev``) for a before figure.
Printed: SQL writes outside intake/store.py (statements and modules), the modules that write a message's status,
the module pairs importing across the three packages (each direction), the modules that queue or send mail, and
the ten longest functions. The duplicated rules are counted by the workplace's ``duplicates`` tool, not here.
"""
from __future__ import annotations

import argparse
import ast
import re
from collections import Counter
from pathlib import Path

PACKAGES = ("parsers", "replies", "intake")
STORE = "intake/store.py"
_WRITE = re.compile(r"^\s*(INSERT\s+(OR\s+\w+\s+)?INTO\s+\w+|UPDATE\s+[\w?{}]+\s+SET\b|DELETE\s+FROM\s+\w+"
                    r"|REPLACE\s+INTO\s+\w+)")
_STATUS = re.compile(r"^\s*(UPDATE\s+messages\s+SET\b.*\bstatus\s*=|INSERT\s+INTO\s+messages\b.*\bstatus\b)",
                     re.IGNORECASE | re.DOTALL)


def modules(root: Path) -> list[Path]:
    return sorted(p for package in PACKAGES for p in (root / package).rglob("*.py"))


def _strings(tree: ast.AST) -> list[str]:
    """Every string the module writes, f-strings and implicit concatenations joined (their holes as ``?``)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            out.append("".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values))
    return out


def sql_writes(root: Path) -> dict[str, int]:
    """Module -> number of SQL write statements written in it (outside the store)."""
    found: Counter[str] = Counter()
    for path in modules(root):
        rel = str(path.relative_to(root))
        if rel == STORE:
            continue
        for text in _strings(ast.parse(path.read_text(encoding="utf-8"))):
            if _WRITE.match(text):
                found[rel] += 1
    return dict(found)


def status_writers(root: Path) -> list[str]:
    """Modules with SQL that writes ``messages.status`` (the store included)."""
    return [str(p.relative_to(root)) for p in modules(root)
            if any(_STATUS.match(t) for t in _strings(ast.parse(p.read_text(encoding="utf-8"))))]


def import_pairs(root: Path) -> Counter[tuple[str, str]]:
    """(importing package, imported package) -> how many distinct (module, module) pairs cross that way."""
    pairs: set[tuple[str, str, str]] = set()
    for path in modules(root):
        mine = path.relative_to(root).parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                     else [])
            for name in names:
                top = name.split(".")[0]
                if top in PACKAGES and top != mine:
                    pairs.add((str(path.relative_to(root)), name, f"{mine}->{top}"))
    return Counter(direction for _, _, direction in pairs)


def callers(root: Path, name: str, keyword: str | None = None) -> list[str]:
    out = set()
    for path in modules(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
                if called == name and (keyword is None or any(k.arg == keyword for k in node.keywords)):
                    out.add(str(path.relative_to(root)))
    return sorted(out)


def longest_functions(root: Path, n: int = 10) -> list[tuple[int, str]]:
    found = []
    for path in modules(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((node.end_lineno - node.lineno + 1,  # type: ignore[operator]
                              f"{path.relative_to(root)}:{node.name}"))
    return sorted(found, reverse=True)[:n]


def db_users(root: Path) -> list[str]:
    """Modules outside the store that reach its connection (``store.db``)."""
    return [str(p.relative_to(root)) for p in modules(root) if str(p.relative_to(root)) != STORE
            and re.search(r"\bstore\.db\b", p.read_text(encoding="utf-8"))]


def public_db(root: Path) -> bool:
    """Whether ``Store`` hands out its connection (an attribute ``self.db``)."""
    return "self.db =" in (root / STORE).read_text(encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkout", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent)
    root = ap.parse_args().checkout.resolve()
    writes = sql_writes(root)
    print(f"SQL writes outside {STORE}: {sum(writes.values())} statements in {len(writes)} modules")
    for module, count in sorted(writes.items()):
        print(f"    {count:3d}  {module}")
    writers = status_writers(root)
    print(f"modules writing messages.status: {len(writers)}  {', '.join(writers)}")
    users = db_users(root)
    print(f"Store.db public: {'yes' if public_db(root) else 'no'}; modules reaching it: {len(users)}  {', '.join(users)}")
    pairs = import_pairs(root)
    print("module import pairs across packages: " + ", ".join(f"{d} {c}" for d, c in sorted(pairs.items())))
    print(f"modules that queue mail (queue_mail): {', '.join(callers(root, 'queue_mail'))}")
    print(f"modules that hand mail to a transport (send(rcpt_to=...)): "
          f"{', '.join(callers(root, 'send', keyword='rcpt_to'))}")
    print("ten longest functions (lines):")
    for lines, where in longest_functions(root):
        print(f"    {lines:4d}  {where}")


if __name__ == "__main__":
    main()
