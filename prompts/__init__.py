"""Prompt templates: editable text files, one folder per pipeline (`prompts/<pipeline>/<name>.md`).

Placeholders use `${name}` (Python `string.Template`); write `$$` for a literal dollar sign.
Admins edit the shipped files, or put a file of the same name under `$HIDEKI_DATA_DIR/prompts/<pipeline>/`
to override it without touching the installation. Every template a pipeline declares is checked when the
bot starts: a missing file, a missing or unknown placeholder stops start-up with a message naming the file.

Edits take effect without a restart: a running bot looks at the files again at most every few seconds and
loads a changed (or newly added / removed override) template once it passes the same check. A broken edit is
logged with the same message and the previous template stays in use, so users never see the mistake.
`hideki prompts check` runs the check by hand after editing.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Callable, Iterable, Mapping

log = logging.getLogger(__name__)

SHIPPED_DIR = Path(__file__).parent
RECHECK_S = 3.0  # how often a running bot looks for edited template files


class PromptError(Exception):
    """A template file is missing or wrong; the message names the file (shown at start-up)."""


@dataclass(frozen=True)
class _Loaded:
    template: Template
    path: Path
    stamp: tuple[int, int]  # (mtime_ns, size) of the file it came from


@dataclass
class PromptSet:
    """The checked templates of one pipeline, reloaded when their files change."""

    pipeline: str
    variables: Mapping[str, frozenset[str]]
    locate: Callable[[str], Path]  # template name -> the file that applies now (override or shipped)
    loaded: dict[str, _Loaded]
    clock: Callable[[], float] = time.monotonic
    _checked_at: float = 0.0
    _rejected: dict[str, tuple[Path, tuple[int, int]]] = field(default_factory=dict)  # broken edits, logged once
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def paths(self) -> dict[str, Path]:
        return {name: item.path for name, item in self.loaded.items()}

    def render(self, name: str, **values: object) -> str:
        self.refresh()
        return self.loaded[name].template.substitute({k: str(v) for k, v in values.items()})

    def refresh(self) -> None:
        """Reload templates whose file changed; keep the old one (and log why) if the new one is wrong."""
        now = self.clock()
        if now - self._checked_at < RECHECK_S:
            return
        with self._lock:
            self._checked_at = now
            for name, current in list(self.loaded.items()):
                path = self.locate(name)
                try:
                    stamp = _stamp(path)
                except OSError:
                    continue  # removed while we looked; the next check sees the shipped file
                if path == current.path and stamp == current.stamp:
                    continue
                try:
                    self.loaded[name] = _Loaded(check_template(path, set(self.variables[name])), path, stamp)
                except PromptError as exc:
                    if self._rejected.get(name) != (path, stamp):
                        log.error("prompt template edit not applied, the previous one stays in use: %s", exc)
                        self._rejected[name] = (path, stamp)
                    continue
                log.info("prompt template reloaded", extra={"pipeline": self.pipeline, "template": name, "path": str(path)})


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


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
        """Load and check the templates `declared` maps to their placeholders (raises PromptError)."""
        variables = {name: frozenset(names) for name, names in declared.items()}
        loaded: dict[str, _Loaded] = {}
        for name, names in variables.items():
            path = self.path_of(pipeline, name)
            template = check_template(path, set(names))
            loaded[name] = _Loaded(template, path, _stamp(path))
        return PromptSet(pipeline, variables, lambda name: self.path_of(pipeline, name), loaded)


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
