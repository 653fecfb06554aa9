"""The dependency rule's contracts (pyproject.toml, run by `lint-imports` in `make test`) catch
a wrong arrow: tried on small throw-away trees shaped like ours, with the project's own
contracts, so that a contract that could never fail would show here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "aidcases/__init__.py": "",
        "aidcases/models.py": "",
        "aidcases/views.py": "from aidcases import models\n",
        "students/__init__.py": "",
        "students/models.py": "from aidcases import models\n",
        "disbursements/__init__.py": "",
        "disbursements/models.py": "",
        "disbursements/services.py": "",
        "volunteers/__init__.py": "",
        "volunteers/models.py": "",
    }
    for name, text in {**base, **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    # The project's own file: its [tool.importlinter] contracts are what is tried.
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    return tmp_path


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(path / "pyproject.toml")],
        cwd=path,
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_project_keeps_its_contracts():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout


def test_a_tree_that_follows_the_rule_passes(tmp_path):
    result = lint(tree(tmp_path, {"students/views.py": "from disbursements import services\n"}))

    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("files", "broken"),
    [
        # The hub reaching a leaf, even inside a function.
        ({"aidcases/views.py": "def f():\n    import students.models\n"}, "The hub"),
        # A leaf reaching into another leaf's models.
        ({"students/views.py": "from volunteers.models import x\n"}, "students does not reach"),
        # Two modules of one package importing each other.
        (
            {
                "aidcases/a.py": "from aidcases import b\n",
                "aidcases/b.py": "from aidcases import a\n",
            },
            "No import cycle",
        ),
    ],
)
def test_a_wrong_arrow_breaks_a_contract(tmp_path, files, broken):
    result = lint(tree(tmp_path, files))

    assert result.returncode == 1
    assert f"{broken}" in result.stdout and "BROKEN" in result.stdout
