"""The import rule of docs/architecture.md, checked on every module of the application.

Imports point one way: `app.py` → `bot/` → `channels/` → (`prompts/`, `knowledge/`, `hideki/`).

- `hideki/` holds the parts everything else is built from, so none of it imports `app`, `bot`, `channels` or
  `knowledge` — except `hideki/cli/`, the `hideki` command, which drives the same parts the bot does.
- `channels/` and `knowledge/` never import `bot/` or `app`: pipelines and the FAQ work without Teams.
- `knowledge/` never imports `channels/`: the FAQ does not know the pipeline that serves it.
- `prompts/` is templates and their loader: it imports no other part of the application.
- Only `bot/` talks to the Bot Framework SDK (`botbuilder`, `botframework`).

Every `import` counts, including those inside functions, and so does `importlib.import_module("…")` with a
literal name.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("app.py", "bot", "channels", "knowledge", "prompts", "hideki")
APPLICATION = ("app", "bot", "channels", "knowledge")


@dataclass(frozen=True)
class Rule:
    where: str  # modules whose path starts with this ("" for all)
    forbidden: tuple[str, ...]  # top-level packages they must not import
    why: str
    exempt: str | None = None  # a path prefix the rule does not apply to

    def applies_to(self, path: str) -> bool:
        return path.startswith(self.where) and not (self.exempt and path.startswith(self.exempt))


RULES = (
    Rule("hideki/", APPLICATION, "hideki/ is what the application is built from; only hideki/cli/ imports upward",
         exempt="hideki/cli/"),
    Rule("channels/", ("bot", "app"), "pipelines work without Teams: only bot/ knows the Bot Framework"),
    Rule("knowledge/", ("bot", "app", "channels"), "the FAQ works without Teams and without the pipeline serving it"),
    Rule("prompts/", APPLICATION, "prompts/ is templates and their loader, below every other part"),
    Rule("", ("botbuilder", "botframework"), "only bot/ uses the Bot Framework SDK", exempt="bot/"),
)


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `tree`, at any depth. Relative imports stay inside their
    own package, so they are not reported."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value


def python_files(root: Path) -> Iterator[Path]:
    for source in SOURCES:
        path = root / source
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(path.rglob("*.py"))


def violations(root: Path) -> list[str]:
    """One line per import against RULES: `file:line: imports X — why`."""
    found = []
    for path in python_files(root):
        relative = path.relative_to(root).as_posix()
        rules = [rule for rule in RULES if rule.applies_to(relative)]
        if not rules:
            continue
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8"), filename=relative)):
            top = module.split(".")[0]
            for rule in rules:
                if top in rule.forbidden:
                    found.append(f"{relative}:{line}: imports {module} — {rule.why}")
    return found


def test_the_application_imports_only_in_the_allowed_direction():
    problems = violations(ROOT)
    assert not problems, "imports against the rule of docs/architecture.md:\n" + "\n".join(problems)


def test_the_check_reads_every_application_module():
    checked = {path.relative_to(ROOT).as_posix() for path in python_files(ROOT)}
    assert {"app.py", "bot/server.py", "channels/base.py", "knowledge/store.py", "prompts/__init__.py",
            "hideki/settings.py", "hideki/cli/main.py"} <= checked


def test_the_check_names_each_violation_with_file_and_line(tmp_path):
    files = {
        "app.py": "import bot.server\nimport botbuilder.core\n",  # app.py may use bot/, but not the SDK itself
        "bot/server.py": "from botbuilder.core import TurnContext\nimport channels\n",  # allowed
        "channels/chat.py": "import knowledge.store\n\ndef run():\n    from bot import delivery\n",
        "knowledge/store.py": "from channels.base import Reply\nfrom . import entries\n",
        "prompts/__init__.py": "import importlib\nloader = importlib.import_module('knowledge.index')\n",
        "hideki/llm/gateway.py": "import os\n\n\nclass Client:\n    def make(self):\n        import app\n",
        "hideki/cli/main.py": "import app\nfrom channels import PIPELINES\nimport knowledge.store\n",  # allowed
        "hideki/pii/masking.py": "from botframework.connector import auth\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = violations(tmp_path)
    assert [line.split(" — ")[0] for line in found] == [
        "app.py:2: imports botbuilder.core",
        "channels/chat.py:4: imports bot",
        "knowledge/store.py:1: imports channels.base",
        "prompts/__init__.py:2: imports knowledge.index",
        "hideki/llm/gateway.py:6: imports app",
        "hideki/pii/masking.py:1: imports botframework.connector",
    ]
    assert all(" — " in line and line.split(" — ")[1] for line in found)  # each says why
