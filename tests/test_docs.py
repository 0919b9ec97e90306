"""The docs cannot drift from the code: every ```python block of docs/*.md and README.md runs here.

Only blocks fenced exactly as ```python are executed (```bash, ```text, ```math are not).
The blocks of one page run in order in one shared namespace, each page in a fresh one,
so a page is a script read top to bottom; the test id names the page. The figure scripts
in docs/figures/ run too (into a temporary folder), and every relative link of every page
must point at a file that exists.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]
FIGURE_SCRIPTS = sorted((DOCS / "figures").glob("*.py"))

_FENCE = re.compile(r"^```(\S*)\s*$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(first line number, source)`` of every block fenced exactly as ```python."""
    blocks, language, start, lines = [], None, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = _FENCE.match(line)
        if language is None and fence:
            language, start, lines = fence.group(1), number + 1, []
        elif language is not None and line.rstrip() == "```":
            if language == "python":
                blocks.append((start, "\n".join(lines)))
            language = None
        elif language is not None:
            lines.append(line)
    return blocks


def test_python_blocks_are_extracted_by_their_exact_fence():
    text = "```python\na = 1\n```\n```bash\nrm -rf /\n```\n```pycon\n>>> 1\n```\n```python\nb = a\n```\n"
    assert python_blocks(text) == [(2, "a = 1"), (11, "b = a")]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_python_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # a page that writes files writes them here
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    for line, source in python_blocks(page.read_text(encoding="utf-8")):
        # Blank lines in front keep the page's line numbers in tracebacks.
        code = compile("\n" * (line - 1) + source, str(page), "exec")
        exec(code, namespace)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_relative_links_exist(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    missing = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (page.parent / target.split("#")[0]).exists():
            missing.append(target)
    assert not missing, f"docs/{page.name} links to missing files: {missing}"


@pytest.mark.parametrize("script", FIGURE_SCRIPTS, ids=[s.name for s in FIGURE_SCRIPTS])
def test_figure_script_draws_its_figure(script: Path, tmp_path: Path):
    figure = runpy.run_path(str(script), run_name="docs_figure")
    written = figure["main"](tmp_path)
    assert written.parent == tmp_path and written.suffix == ".png"
    assert written.stat().st_size > 10_000
    committed = DOCS / "figures" / written.name
    assert committed.exists(), f"commit the figure: run python {script.relative_to(DOCS.parent)}"
