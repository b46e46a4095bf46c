"""The project builds (sdist, wheel from the sdist, editable) without a packaging warning, and ships its data.

A build warning today (setuptools' "`project.license` as a TOML table is deprecated ... by 2027-Feb-18") is a
build that stops working on a known date, so any warning fails here. The builds run on a copy of the checkout,
without build isolation (no network: the venv's setuptools and build, pinned in the `test` extra to the range of
[build-system]), so the checkout gets no build/ or egg-info from this test.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intake", "parsers", "replies")
# What the product reads at run time, by path in the wheel (the demo, the reply wording, the review page, the
# report): a wheel without these installs and then fails on first use.
PRODUCT_DATA = (
    "replies/templates/acknowledgement.en.txt", "replies/templates/acknowledgement.fr.txt",
    "replies/templates/acknowledgement.es.txt", "replies/templates/_macros.txt",
    "intake/samples/demo/invitees.csv", "intake/samples/demo/02-registration-fr.eml",
    "intake/web/static/style.css", "intake/web/templates/base.html",
    "intake/report_templates/report.html", "intake/report_templates/report.txt",
)
# Data that other work adds under parsers/ (lexicons, model weights): any name, any depth, must ship.
PROBES = ("parsers/_packaging_probe/lexicon/fr.toml", "parsers/_packaging_probe/model/weights.bin",
          "parsers/_packaging_probe/README")
WARNING = re.compile(r"warn|deprecat|!!", re.IGNORECASE)


def _copy_checkout(dest: Path) -> Path:
    skip = {".git", ".venv", "build", "dist", "intake-data", "test-output", "__pycache__", ".mypy_cache",
            ".ruff_cache", ".pytest_cache", "labelled"}
    shutil.copytree(ROOT, dest, ignore=lambda _d, names: [n for n in names if n in skip or n.endswith(".egg-info")])
    for probe in PROBES:
        (dest / probe).parent.mkdir(parents=True, exist_ok=True)
        (dest / probe).write_bytes(b"probe\n")
    cache = dest / "parsers" / "_packaging_probe" / "__pycache__"
    cache.mkdir()
    (cache / "stale.cpython-311.pyc").write_bytes(b"\0")
    return dest


def _run(args: list[str], cwd: Path) -> str:
    # PYTHONDONTWRITEBYTECODE makes distutils print "warning: byte-compiling is disabled": not ours, so unset.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(args, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if WARNING.search(line)]


def _data_files(src: Path) -> set[str]:
    """Every file of the packages that is not code (nor bytecode), as a path inside the wheel."""
    found = set()
    for package in PACKAGES:
        for path in (src / package).rglob("*"):
            if path.is_file() and path.suffix not in {".py", ".pyc", ".pyo"} and "__pycache__" not in path.parts:
                found.add(path.relative_to(src).as_posix())
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    src = _copy_checkout(tmp_path_factory.mktemp("src") / "un-intake")
    out = tmp_path_factory.mktemp("dist")
    # No --sdist/--wheel: the wheel is built from the sdist, so a file missing from the sdist is caught too.
    output = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out)], cwd=src)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return src, wheel, sdist, output


def test_sdist_and_wheel_build_without_a_packaging_warning(built: tuple[Path, Path, Path, str]) -> None:
    _src, _wheel, _sdist, output = built
    assert "Successfully built" in output
    assert _warnings(output) == []


def test_editable_install_prints_no_warning(built: tuple[Path, Path, Path, str], tmp_path: Path) -> None:
    # What `pip install -e .` (scripts/setup.sh) asks setuptools for: PEP 660's build_editable hook.
    src = built[0]
    code = ("import sys; from build import ProjectBuilder; "
            "print(ProjectBuilder('.').build('editable', sys.argv[1]))")
    output = _run([sys.executable, "-c", code, str(tmp_path)], cwd=src)
    assert _warnings(output) == []
    (editable,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(editable) as z:  # one path line, no import hook: what package-dir = "." buys
        pth = [n for n in z.namelist() if n.endswith(".pth")]
        assert len(pth) == 1 and z.read(pth[0]).decode().strip() == str(src)


def test_wheel_ships_every_data_file_and_no_bytecode(built: tuple[Path, Path, Path, str]) -> None:
    src, wheel, _sdist, _output = built
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    expected = _data_files(src)
    assert set(PRODUCT_DATA) <= expected, "a file the product needs is missing from the checkout itself"
    assert set(PROBES) <= expected
    assert sorted(expected - names) == []
    assert [n for n in names if n.endswith((".pyc", ".pyo")) or "__pycache__" in n] == []
    assert {n for n in names if n.endswith(".py")} >= {"parsers/__init__.py", "intake/cli.py", "replies/compose.py"}


def test_licence_is_an_spdx_expression_with_its_file(built: tuple[Path, Path, Path, str]) -> None:
    _src, wheel, sdist, _output = built
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = z.read(meta_name).decode()
        licences = [n for n in z.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert licences and z.read(licences[0]).startswith(b"MIT License")
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert not any(line.startswith("License: ") for line in metadata.splitlines())  # the deprecated field
    with tarfile.open(sdist) as t:
        assert any(n.endswith("/LICENSE") for n in t.getnames())


def test_build_requirements_agree() -> None:
    # The offline build above uses the venv's setuptools (the `test` extra); a pip install uses
    # [build-system].requires. The two ranges must be the same range, or this test proves nothing about pip.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build_requires = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    test_requires = [r for r in project["project"]["optional-dependencies"]["test"] if r.startswith("setuptools")]
    assert build_requires and build_requires == test_requires
