"""Prompt templates: editable text files, one folder per pipeline (`prompts/<pipeline>/<name>.md`).

Placeholders use `${name}` (Python `string.Template`); write `$$` for a literal dollar sign.
Admins edit the shipped files, or put a file of the same name under `$HIDEKI_DATA_DIR/prompts/<pipeline>/`
to override it without touching the installation. Every template a pipeline declares is checked when the
bot starts: a missing file, a missing or unknown placeholder stops start-up with a message naming the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Iterable, Mapping

SHIPPED_DIR = Path(__file__).parent


class PromptError(Exception):
    """A template file is missing or wrong; the message names the file (shown at start-up)."""


@dataclass(frozen=True)
class PromptSet:
    pipeline: str
    templates: Mapping[str, Template]
    paths: Mapping[str, Path]

    def render(self, name: str, **values: object) -> str:
        return self.templates[name].substitute({k: str(v) for k, v in values.items()})


class PromptLibrary:
    def __init__(self, override_dir: Path | None = None, shipped_dir: Path = SHIPPED_DIR) -> None:
        self.override_dir = override_dir
        self.shipped_dir = shipped_dir

    def path_of(self, pipeline: str, name: str) -> Path:
        if self.override_dir is not None:
            candidate = self.override_dir / pipeline / f"{name}.md"
            if candidate.exists():
                return candidate
        return self.shipped_dir / pipeline / f"{name}.md"

    def load(self, pipeline: str, declared: Mapping[str, Iterable[str]]) -> PromptSet:
        """Load and check the templates `declared` maps to their placeholders."""
        templates: dict[str, Template] = {}
        paths: dict[str, Path] = {}
        for name, variables in declared.items():
            path = self.path_of(pipeline, name)
            templates[name] = check_template(path, set(variables))
            paths[name] = path
        return PromptSet(pipeline, templates, paths)


def check_template(path: Path, variables: set[str]) -> Template:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"プロンプトファイル {path} がありません") from None
    except UnicodeDecodeError as exc:
        raise PromptError(f"プロンプトファイル {path} は UTF-8 ではありません: {exc}") from None
    if not text.strip():
        raise PromptError(f"プロンプトファイル {path} が空です")
    template = Template(text)
    if not template.is_valid():
        line = _bad_placeholder_line(text)
        raise PromptError(f"プロンプトファイル {path} の {line} 行目に不正な $ があります（文字の $ は $$ と書きます）")
    found = set(template.get_identifiers())
    if missing := sorted(variables - found):
        raise PromptError(f"プロンプトファイル {path} に変数 {', '.join('${' + v + '}' for v in missing)} がありません")
    if unknown := sorted(found - variables):
        allowed = ", ".join("${" + v + "}" for v in sorted(variables)) or "なし"
        raise PromptError(
            f"プロンプトファイル {path} に使えない変数 {', '.join('${' + v + '}' for v in unknown)} があります（使える変数: {allowed}）"
        )
    return template


def _bad_placeholder_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if not Template(line).is_valid():
            return number
    return 1
