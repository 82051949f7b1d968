"""One import namespace: the wheel holds every module, bare names refuse to import."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TREES = {"src/theorylab": "theorylab", "theory": "theorylab/theory",
         "numerics": "theorylab/numerics", "proofs": "theorylab/proofs"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    (path,) = out.glob("theorylab-*.whl")
    return path


def test_wheel_holds_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"{target}/{source.relative_to(ROOT / tree)}"
                for tree, target in TREES.items()
                for source in (ROOT / tree).rglob("*.py")}
    assert expected, "no sources found"
    assert expected <= names, sorted(expected - names)
    top_level = {name.split("/")[0] for name in names}
    assert top_level <= {"theorylab", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}"
                         ".dist-info"}, top_level


def test_entry_point_is_declared(wheel):
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "theorylab = theorylab.cli:main" in archive.read(entry_points).decode()


@pytest.mark.parametrize("bare", ["numerics", "proofs", "theory"])
def test_bare_folder_import_is_a_clear_error(bare):
    result = subprocess.run([sys.executable, "-c", f"import {bare}"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and f"theorylab.{bare}" in result.stderr


def test_numerics_never_imports_theory():
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(theorylab\.theory|\.\.theory|theory)\b", re.M)
    for source in (ROOT / "numerics").rglob("*.py"):
        assert not pattern.search(source.read_text()), source
