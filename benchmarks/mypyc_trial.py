"""Compile the parser's modules with mypyc in a copy of the checkout, and check that no output changed (issue 16).

    python benchmarks/mypyc_trial.py [--dest DIR] [--modules parsers/x.py ...] [--no-check]

The experiment of session 5, reproducible: the checkout's tracked files are copied to ``DIR`` (default: a new
temporary folder, kept), with a ``shared`` link beside it (the labelled data are found at ``../shared``), the
modules are compiled there with ``mypyc`` (it ships with mypy, a test dependency; needs a C compiler and
Python's headers), then ``parse_snapshot.py record`` runs on this checkout and ``check`` on the compiled copy:
a difference is a behaviour mypyc changed. Then time both side by side, e.g.

    python benchmarks/parse_rules_bench.py                 # this checkout, pure Python
    (cd DIR && python benchmarks/parse_rules_bench.py)     # the compiled copy (same interpreter, same venv)

(the benchmarks put their own checkout first on ``sys.path``, so DIR's compiled modules are the ones imported).

Default modules: every module of ``parsers/`` the parse runs, but ``parsers/__init__.py`` (its lazy
``__getattr__``), ``limits.py`` (``intake.config.AttachmentsConfig`` subclasses its dataclass: an interpreted
class cannot inherit from a compiled one), and the attachment reader's side (``sandbox``, ``sandbox_child``,
``attachments``, ``ocr``, ``pages``: another process, not in the figure) and ``warmup``.
Printed, not asserted; nothing here is part of the product (docs/parsing.md: why it was not adopted).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOT_COMPILED = {"parsers/__init__.py", "parsers/limits.py", "parsers/sandbox.py", "parsers/sandbox_child.py",
                "parsers/attachments.py", "parsers/ocr.py", "parsers/pages.py", "parsers/warmup.py"}


def default_modules() -> list[str]:
    found = sorted(str(p.relative_to(REPO)) for p in (REPO / "parsers").rglob("*.py"))
    return [m for m in found if m not in NOT_COMPILED]


def copy_checkout(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    for name in files.decode().split("\0"):
        if name and (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    shared = dest.parent / "shared"
    if not shared.exists():
        shared.symlink_to((REPO.parent / "shared").resolve())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", type=Path, help="an empty folder (default: a new temporary one)")
    ap.add_argument("--modules", nargs="+", help="paths relative to the checkout (default: see above)")
    ap.add_argument("--no-check", action="store_true", help="compile only, no parse_snapshot record/check")
    args = ap.parse_args()
    dest = (args.dest or Path(tempfile.mkdtemp(prefix="mypyc-trial-")) / "checkout").resolve()
    dest.mkdir(parents=True, exist_ok=True)
    copy_checkout(dest)
    modules = args.modules or default_modules()
    mypyc = Path(sys.executable).with_name("mypyc")
    print(f"compiling {len(modules)} modules in {dest} ...", flush=True)
    subprocess.run([str(mypyc), *modules], cwd=dest, check=True, stdout=subprocess.DEVNULL)
    built = sorted(p.relative_to(dest) for p in dest.rglob("*.so") if "build" not in p.parts)
    print(f"built {len(built)} extension modules")
    if not args.no_check:
        snapshot = dest.parent / "before.jsonl"
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "parse_snapshot.py"), "record", str(snapshot)],
                       check=True, stderr=subprocess.DEVNULL)
        check = subprocess.run([sys.executable, "benchmarks/parse_snapshot.py", "check", str(snapshot)], cwd=dest, check=False,
                               stderr=subprocess.DEVNULL)
        print(f"parse_snapshot check of the compiled copy: exit {check.returncode}")
    print(f"compiled checkout: {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
