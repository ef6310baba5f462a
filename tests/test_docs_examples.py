"""Every Python example in docs/*.md runs.

Fenced blocks say what they are in their info string:

- ```` ```python run ````: executed, in the order of the page, in one namespace per page;
- ```` ```LANG file=PATH ````: written to PATH in the page's own empty folder before the blocks after it
  run (the folder is the working directory and is importable); a page that writes ``tests/`` files
  then has them run with pytest, as its reader would;
- ```` ```python api ````: a listing of signatures, not code.

Each page runs in a fresh interpreter, so the modules one page writes never meet another's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)

RUNNER = r"""
import json, sys, traceback
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__docs__"}
for block in blocks:
    if block["file"]:
        import pathlib
        path = pathlib.Path(block["file"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block["code"])
        continue
    try:
        exec(compile(block["code"], block["where"], "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"FAILED: the example at {block['where']}", file=sys.stderr)
        sys.exit(1)
"""


@dataclass(frozen=True)
class Block:
    where: str
    info: str
    code: str

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def file(self) -> str | None:
        match = re.search(r"\bfile=(\S+)", self.info)
        return match.group(1) if match else None

    @property
    def runs(self) -> bool:
        return self.language == "python" and "run" in self.info.split()[1:]


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(f"{page.name}:{line}", match.group(1).strip(), match.group(2)))
    return found


PAGES = sorted(p for p in DOCS.glob("*.md") if any(b.runs or b.file for b in blocks(p)))


def test_every_python_block_of_the_docs_runs_or_is_a_listing():
    unmarked = [
        b.where
        for page in DOCS.glob("*.md")
        for b in blocks(page)
        if b.language == "python" and not (b.runs or b.file or "api" in b.info.split()[1:])
    ]
    assert unmarked == [], f"mark these python blocks `run`, `file=PATH` or `api`: {unmarked}"


def test_the_sdk_guide_is_among_the_pages_that_run():
    assert DOCS / "sdk.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_examples_of_a_page_run(page, tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    plan = [{"where": b.where, "file": b.file, "code": b.code} for b in blocks(page) if b.runs or b.file]
    (tmp_path / "blocks.json").write_text(json.dumps(plan))
    (tmp_path / "runner.py").write_text(RUNNER)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "blocks.json")],
        cwd=folder,
        env={**_environment(), "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    if (folder / "tests").is_dir():
        tested = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            cwd=folder,
            env={**_environment(), "PYTHONPATH": str(folder)},
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-3000:]
        assert " passed" in tested.stdout


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOVBUS_HOME")}
