"""Where the parser's phrase knowledge lives: regex sites and alternatives in code, entries in the data files.

    python benchmarks/lexicon_census.py [PARSERS_DIR]      # default: this checkout's parsers/
    git archive 7989434 parsers | tar -x -C /tmp/old && python benchmarks/lexicon_census.py /tmp/old/parsers

A regex site is a call of re.compile/search/match/fullmatch/sub/finditer/findall/split with a literal pattern,
or a phrases() template; its alternatives are its "|" branches at every depth plus one (character classes and
the <<concept>> slots do not count). The data side counts the entries of parsers/lexicon/*.toml.
"""
from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

FUNCS = {"compile", "search", "match", "fullmatch", "sub", "subn", "finditer", "findall", "split"}


def literal(node: ast.expr) -> str | None:
    """The static text of a pattern expression (constants, +, f-strings with their holes left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = literal(node.left), literal(node.right)
        return None if a is None and b is None else (a or "") + (b or "")
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def alternatives(pattern: str) -> int:
    n, i, in_class = 1, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif c == "|":
            n += 1
        i += 1
    return n


def code_census(folder: Path) -> tuple[int, int, int]:
    """(re.* sites, phrases() templates, alternatives written in code)."""
    sites = templates = alts = 0
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_re = (isinstance(func, ast.Attribute) and func.attr in FUNCS and isinstance(func.value, ast.Name)
                     and func.value.id == "re")
            is_phrases = isinstance(func, ast.Name) and func.id == "phrases"
            pattern = literal(node.args[0]) if is_re or is_phrases else None
            if pattern is None:
                continue
            sites += is_re
            templates += is_phrases
            alts += alternatives(pattern)
    return sites, templates, alts


def kinds(folder: Path) -> dict[str, str]:
    """Concept -> kind ("patterns", "words", "map"), read from the registry without importing it."""
    tree = ast.parse((folder / "lexicon" / "concepts.py").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and isinstance(value, ast.Call) and value.args
                        and isinstance(value.args[0], ast.Constant)):
                    out[str(key.value)] = str(value.args[0].value)
    return out


def data_census(folder: Path) -> dict[str, tuple[int, int, int, int]]:
    """Per data file: (pattern concepts, pattern entries, their alternatives counted as in code, words and
    table entries)."""
    if not (folder / "lexicon").is_dir():
        return {}
    kind = kinds(folder)
    out: dict[str, tuple[int, int, int, int]] = {}
    for path in sorted((folder / "lexicon").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        patterns = [v for k, v in data.items() if kind.get(k) == "patterns"]
        others = [v for k, v in data.items() if kind.get(k) != "patterns"]
        out[path.name] = (len(patterns), sum(len(v) for v in patterns),
                          sum(alternatives(a) for v in patterns for a in v), sum(len(v) for v in others))
    return out


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "parsers"
    sites, templates, alts = code_census(folder)
    print(f"code ({folder}): {sites} re.* sites + {templates} phrases() templates, {alts} alternatives written in code")
    data = data_census(folder)
    for name, (concepts, n, branches, other) in data.items():
        print(f"  {name:14s} {concepts:4d} pattern concepts, {n:5d} phrases ({branches:5d} alternatives); "
              f"{other:4d} words and table entries")
    if data:
        print(f"data: {sum(v[1] for v in data.values())} phrases ({sum(v[2] for v in data.values())} alternatives), "
              f"{sum(v[3] for v in data.values())} words and table entries in {len(data)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
