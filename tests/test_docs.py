"""The documentation stays true: README.md and docs/*.md are checked against the files and the code.

- Every relative link and image resolves to a file or folder, and every #anchor to a heading of its page.
- Examples run. A ```console block is a terminal session: each line starting with `$ python main.py` runs
  (in a temporary folder holding a link to resources/, one folder per page, blocks in page order, so a
  later example can use what an earlier one wrote) and must exit 0 and print what follows it (stdout and
  stderr together; a line `...` stands for any lines, `...` inside a line for any text). Every ```python
  block runs in the same folder and must exit 0. A block can be left out with the line
  `<!-- docs-test: skip REASON -->` right above its fence; the reason is required.
- Commands shown but not run (```sh blocks, and commands inside other blocks) must still parse: each
  `main.py` command line goes through the real argument parser, so a renamed or removed option fails here.
- The command synopsis in docs/command-line.md names every option of every command, and nothing else.
- JSON examples load with their format's own loader; tables that mirror code or saved results match them.

Examples that train stay tiny (one epoch on a bundled set); the whole file takes well under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
SKIP = re.compile(r"^<!-- docs-test: skip (?P<reason>\S.*?) -->$")
COMMAND_TIMEOUT = 120  # seconds per command; the examples take a few seconds each


@dataclass(frozen=True)
class Block:
    page: Path
    line: int           # 1-based line of the opening fence
    lang: str
    text: str
    skip_reason: str | None

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a page, each with the skip reason written right above it (if any)."""
    found, lines = [], page.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})(\S*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(fence.group(1))), None)
        assert end is not None, f"{page.relative_to(ROOT)}:{i + 1}: a code block is never closed"
        marker = SKIP.match(lines[i - 1].strip()) if i > 0 else None
        found.append(Block(page, i + 1, fence.group(2), "\n".join(lines[i + 1:end]) + "\n",
                           marker.group("reason") if marker else None))
        i = end + 1
    return found


def prose(page: Path) -> str:
    """The page without its code blocks and inline code, where links and headings live."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"^(`{3,}).*?^\1\s*$", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in prose_keep_code_in_headings(page):
        name = slug(line)
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.add(name if count == 0 else f"{name}-{count}")
    return result


def prose_keep_code_in_headings(page: Path) -> list[str]:
    """Heading texts outside code blocks (inline code kept: its text is part of the anchor)."""
    text = re.sub(r"^(`{3,}).*?^\1\s*$", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [m.group(1) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M)]


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_links_and_images_resolve(page):
    problems = []
    for target in LINK.findall(prose(page)):
        if re.match(r"^[a-z]+:", target):  # https:, mailto: (not checked: the tests run offline)
            continue
        path_text, _, anchor = target.partition("#")
        path = (page.parent / path_text).resolve() if path_text else page
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif anchor and (path.suffix != ".md" or anchor not in anchors(path)):
            problems.append(f"{target}: no heading #{anchor} in {path.relative_to(ROOT)}")
    assert not problems, f"{page_id(page)}: " + "; ".join(problems)


def test_the_reference_pages_are_all_linked_from_the_index_and_the_front_page_links_the_index():
    index = prose(DOCS / "README.md")
    unlinked = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and f"]({p.name}" not in index]
    assert not unlinked, f"docs/README.md links none of {unlinked}"
    assert "](docs/README.md)" in prose(ROOT / "README.md")


def test_the_front_page_stays_a_front_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 160, f"README.md has {lines} lines: move the details to docs/"


def test_skip_markers_sit_on_a_block():
    """A marker a blank line away from its fence would silently skip nothing (and the block would run)."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").split("\n")
        for n, line in enumerate(lines):
            if line.strip().startswith("<!-- docs-test"):
                assert SKIP.match(line.strip()), f"{page_id(page)}:{n + 1}: write <!-- docs-test: skip REASON -->"
                assert n + 1 < len(lines) and lines[n + 1].startswith("```"), \
                    f"{page_id(page)}:{n + 1}: a skip marker must be the line right above a code block"


# -- examples that run ------------------------------------------------------------------------------------------

def session(block: Block) -> list[tuple[str, str]]:
    """A console block as (command, expected output) pairs."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{block.where()}: a console block starts with a `$ ` command"
            steps[-1][1].append(line)
    return [(command, "\n".join(expected)) for command, expected in steps]


def matches(expected: str, actual: str) -> bool:
    """Whether `actual` is `expected` with each `...` line standing for any lines, `...` in a line for any text;
    trailing spaces and blank lines at the end are ignored on both sides."""
    def lines(text):
        return [line.rstrip() for line in text.rstrip().split("\n")] if text.strip() else []
    pattern = ""
    for line in lines(expected):
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += "[^\n]*?".join(re.escape(part) for part in line.split("...")) + r"\n"
    return re.fullmatch(pattern, "".join(line + "\n" for line in lines(actual))) is not None


def run_command(command: str, folder: Path, block: Block) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    assert argv[:2] == ["python", "main.py"], \
        f"{block.where()}: console examples run `python main.py ...` only, not {command!r}"
    env = {**os.environ, "CONVSCOPE_DATA": str(folder / "datasets-cache"), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *argv[2:]], cwd=folder, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=COMMAND_TIMEOUT)


RUNNABLE = [page for page in PAGES if any(b.lang in ("console", "python") and not b.skip_reason for b in blocks(page))]


@pytest.mark.parametrize("page", RUNNABLE, ids=page_id)
def test_examples_run_as_shown(page, tmp_path):
    (tmp_path / "resources").symlink_to(ROOT / "resources", target_is_directory=True)
    for block in blocks(page):
        if block.skip_reason or block.lang not in ("console", "python"):
            continue
        if block.lang == "python":
            out = subprocess.run([sys.executable, "-c", block.text], cwd=tmp_path, capture_output=True, text=True,
                                 timeout=COMMAND_TIMEOUT)
            assert out.returncode == 0, f"{block.where()}: the example failed:\n{out.stdout}{out.stderr}"
            continue
        for command, expected in session(block):
            out = run_command(command, tmp_path, block)
            assert out.returncode == 0, f"{block.where()}: `{command}` exited {out.returncode}:\n{out.stdout}"
            assert matches(expected, out.stdout), \
                f"{block.where()}: `{command}` printed\n{out.stdout}\ninstead of\n{expected}"


def test_matches_reads_ellipses_as_documented():
    assert matches("a\n...\nd", "a\nb\nc\nd")
    assert matches("a\n...\nd", "a\nd")
    assert matches("loss ...; wrote x", "loss 0.28; wrote x\n\n")
    assert not matches("loss ...; wrote x", "loss 0.28; wrote y")
    assert not matches("a\nb", "a\nb\nc")  # output the page does not show is a difference
    assert matches("t  \n", "t")


# -- commands shown but not run ---------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    """main.py's parser: the engine's commands plus the window's two options (as main.main adds them)."""
    from engine.cli import build_parser

    p = build_parser()
    p.add_argument("--project")
    p.add_argument("--dataset")
    return p


def commands() -> dict[str, argparse.ArgumentParser]:
    p = parser()
    (sub,) = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return {"": p, **sub.choices}


def shown_commands(block: Block) -> list[str]:
    """The argument lists after `main.py` in a shell block (continuation lines joined, comments dropped)."""
    text = block.text.replace("\\\n", " ")
    found = []
    for line in text.split("\n"):
        if re.search(r"(^|[\s/])main\.py(\s|$)", line) and not line.lstrip().startswith("#"):
            found.append(re.split(r"(?:^|[\s/])main\.py(?=\s|$)", line, maxsplit=1)[1])
    return found


SHELL_BLOCKS = [b for page in PAGES for b in blocks(page) if b.lang in ("sh", "bash", "shell", "console")]


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=Block.where)
def test_shown_commands_parse(block, capsys):
    for tail in shown_commands(block):
        argv = shlex.split(tail, comments=True)
        try:
            parser().parse_args(argv)
        except SystemExit as exc:
            if exc.code != 0:
                pytest.fail(f"{block.where()}: `main.py {tail.strip()}` does not parse: {capsys.readouterr().err}")


SETTINGS_PLACEHOLDER = "[--SETTING VALUE ...]"  # in the synopsis: the options of docs/training-settings.md


def synopsis() -> dict[str, set[str]]:
    """The options docs/command-line.md's synopsis shows for each command ("" for the window); a command whose
    lines hold SETTINGS_PLACEHOLDER also shows "--SETTING"."""
    (block,) = [b for b in blocks(DOCS / "command-line.md") if b.lang == "text" and "python main.py" in b.text]
    shown: dict[str, set[str]] = {}
    current = None
    for line in block.text.split("\n"):
        if line.startswith("python main.py"):
            words = line.split()
            current = "" if len(words) < 3 or words[2].startswith(("[", "-")) else words[2]
            if current == "COMMAND":
                current = None
                continue
            shown.setdefault(current, set())
        elif not line.startswith(" "):
            current = None
        if current is not None:
            shown[current] |= set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line))
            if SETTINGS_PLACEHOLDER in line:
                shown[current].add("--SETTING")
    return shown


def setting_options() -> set[str]:
    """The options docs/training-settings.md describes (it is generated from engine/config.py)."""
    return set(re.findall(r"`(--[a-z][a-z0-9-]*)`", (DOCS / "training-settings.md").read_text(encoding="utf-8")))


def test_the_synopsis_names_every_option_of_every_command_and_no_other():
    """Each option is in the synopsis, or (for a command shown with --SETTING VALUE) in the training settings."""
    shown = synopsis()
    for name, command in commands().items():
        assert name in shown, f"docs/command-line.md: the synopsis has no line for `{name}`"
        options = {s for a in command._actions for s in a.option_strings if s.startswith("--") and s != "--help"}
        if "--SETTING" in shown[name]:
            shown[name] = (shown[name] - {"--SETTING"}) | (setting_options() & options)
        unknown = shown[name] - options
        assert not unknown, f"docs/command-line.md: `{name or 'the window'}` has no option {sorted(unknown)}"
        missing = [a.option_strings for a in command._actions if a.option_strings and "--help" not in a.option_strings
                   and not shown[name] & set(a.option_strings)]
        assert not missing, f"docs/command-line.md: the synopsis of `{name or 'the window'}` lacks {missing}"


# -- examples that mirror formats, code and results -------------------------------------------------------------

def load_example(data):
    """Loads a JSON example with the loader of its format; raises that loader's error if it is not valid."""
    from models import architecture_file, experiment, lesson

    kind = data.get("format") if isinstance(data, dict) else None
    if kind == "convscope.architecture":
        return architecture_file.from_dict(data)
    if kind == "convscope.lesson":
        return lesson.from_dict(data)
    if kind == "convscope.experiment":  # its "base" names a preset, as if the spec lay beside the presets
        return experiment.from_dict(data, folder=ROOT / "resources" / "presets")
    if isinstance(data, dict) and "type" in data:
        return architecture_file.layer_from_dict(data, "the example")
    raise AssertionError("a JSON example of no format this test knows: give it one, or mark it skipped")


JSON_BLOCKS = [b for page in PAGES for b in blocks(page) if b.lang == "json" and not b.skip_reason]


@pytest.mark.parametrize("block", JSON_BLOCKS, ids=Block.where)
def test_json_examples_load(block):
    load_example(json.loads(block.text))


def test_every_layer_type_is_in_the_architecture_table():
    from models.layers import LAYER_TYPES

    text = (DOCS / "architecture-files.md").read_text(encoding="utf-8")
    table = [line for line in text.split("\n") if line.startswith("| `")]
    missing = [name for name in LAYER_TYPES if not any(f"`{name}`" in line.split("|")[1] for line in table)]
    assert not missing, f"docs/architecture-files.md: the layer table lacks {missing}"


def test_the_preset_table_is_the_saved_benchmark_result():
    saved = (ROOT / "bench" / "results" / "presets.md").read_text(encoding="utf-8").split("\n")
    shown = [line for line in (DOCS / "architecture-files.md").read_text(encoding="utf-8").split("\n")
             if line.startswith("| ") and "(`" in line]
    assert shown and all(line in saved for line in shown), "rerun bench/presets.py, or copy its table again"


def test_the_layout_names_every_room_module_and_contract():
    """docs/layout.md describes every package and root module of engine/ and gui/, quotes every import contract
    of pyproject.toml by name (and no other), and names every layer of the layers contracts."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    text = (DOCS / "layout.md").read_text(encoding="utf-8")
    parts = [f"{p.name}/" if p.is_dir() else p.name for top in ("engine", "gui") for p in (ROOT / top).iterdir()
             if (p / "__init__.py").exists() or (p.suffix == ".py" and p.name != "__init__.py")]
    missing = [part for part in parts if not re.search(rf"(^|[\s,]){re.escape(part)}(?=[\s,])", text, flags=re.M)]
    assert not missing, f"docs/layout.md does not describe {missing}"
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    names = {c["name"] for c in contracts}
    quoted = set(re.findall(r"^- \*\*(.+?)\*\*", text, flags=re.M))
    assert quoted == names, f"docs/layout.md: contracts to add {sorted(names - quoted)}, to drop {sorted(quoted - names)}"
    layers = {part.strip() for c in contracts for layer in c.get("layers", []) for part in layer.split("|")}
    unnamed = sorted(layer for layer in layers if f"`{layer}`" not in text)
    assert not unnamed, f"docs/layout.md: the contracts' layers {unnamed} are not named (in backticks)"


def test_docs_named_in_the_code_exist():
    """Help texts and docstrings point at docs/NAME.md or docs/NAME.md#heading; each must be there."""
    missing = []
    for path in [*ROOT.glob("*.py"), ROOT / "Makefile", *(p for top in ("models", "engine", "gui", "tests", "bench",
                 "tools") for p in (ROOT / top).rglob("*.py"))]:
        if path == Path(__file__).resolve():  # this file names pages only as patterns and examples
            continue
        for page, anchor in re.findall(r"(docs/[\w-]+\.md)(?:#([\w-]+))?", path.read_text(encoding="utf-8")):
            if not (ROOT / page).exists() or (anchor and anchor not in anchors(ROOT / page)):
                missing.append(f"{page}{'#' + anchor if anchor else ''} (in {path.relative_to(ROOT)})")
    assert not missing, f"no such page or heading: {missing}"
