"""Pipelines defined by files: read and check `$HIDEKI_DATA_DIR/pipelines/<id>/pipeline.toml` (+ system.md, user.md).

A definition is data, never code: a few typed keys (validated, unknown keys refused) and two `string.Template`
prompts whose only placeholders are the declared ones (`${input}`, `${today}`). Nothing in a definition can
name another file, a URL or a module: the loader reads exactly `pipeline.toml`, `system.md` and `user.md` of the
folder (no links out of it), each at most 256 KB and UTF-8. Every mistake raises DefinitionError with a
Japanese message naming the file and, where there is one, the line.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Iterable, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

EXAMPLES_DIR = Path(__file__).parent / "examples"  # shipped definitions; not enabled until copied
MAX_FILE_BYTES = 256 * 1024
MAX_PIPELINES = 200
MAX_EXAMPLES = 20
DEFAULT_MAX_INPUT_CHARS = 20_000
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
FILE_NAMES = ("pipeline.toml", "system.md", "user.md")
FILE_TYPES = (".docx", ".pdf", ".txt", ".md", ".html", ".xlsx", ".csv", ".vtt")
PLACEHOLDERS = {"input": "利用者の文章（ファイルのときはその文字）", "today": "今日の日付（例: 2025年4月1日）"}
STEPS = {"furigana": "漢字に読み仮名を付ける", "check_facts": "入力の数字・日付・名前が回答に残っているか確かめる",
         "check_pii": "回答に個人情報があれば注意を出す"}
OFFLINE_ENGINES = {"summary": "抜粋による要約", "furigana": "読み仮名付け", "yasashii": "やさしい日本語への書き換え（規則）"}
# Words a title may not take: they are commands (`設定 解除`, `ヘルプ` …)
COMMAND_WORDS = ("ヘルプ", "help", "設定", "解除", "リセット", "faq状況")
DEFAULT_USER = "${input}"


class DefinitionError(ValueError):
    """A pipeline definition is wrong; the message names the file (and line) in Japanese."""


def key(word: str) -> str:
    """How titles and ids are compared (the registry's rule: NFKC, case and spaces ignored)."""
    return unicodedata.normalize("NFKC", word).strip().lower().replace(" ", "")


class Example(BaseModel):
    """One few-shot example: an input and the answer wanted for it."""

    model_config = ConfigDict(extra="forbid")
    input: str = Field(min_length=1)
    output: str = Field(min_length=1)


class PipelineFile(BaseModel):
    """The keys `pipeline.toml` may hold."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None  # needed only when the file is sent from Teams under another name
    title: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=200)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0, le=100_000)
    pii: Literal["mask", "block", "off"] | None = None
    max_input_chars: int = Field(default=DEFAULT_MAX_INPUT_CHARS, gt=0, le=500_000)
    file_types: list[Literal[FILE_TYPES]] = []  # type: ignore[valid-type]
    examples: list[Example] = Field(default=[], max_length=MAX_EXAMPLES)
    output: Literal["text", "table"] = "text"
    steps: list[Literal["furigana", "check_facts", "check_pii"]] = []
    offline: Literal["summary", "furigana", "yasashii"] | None = None
    system: str | None = None
    user: str | None = None

    @field_validator("title", "description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip() or not value.strip():
            raise ValueError("1行で書いてください")
        return value.strip()


@dataclass(frozen=True)
class Definition:
    """A checked pipeline definition."""

    id: str
    spec: PipelineFile
    system: Template
    user: Template
    where: Path  # the pipeline.toml it came from (or the uploaded file's name)
    system_text: str
    user_text: str

    @property
    def title(self) -> str:
        return self.spec.title


@dataclass(frozen=True)
class Reserved:
    """Ids and titles a custom pipeline may not take (the built-in pipelines' and the commands')."""

    ids: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()

    @classmethod
    def of(cls, pipelines: Iterable[tuple[str, str]]) -> "Reserved":
        pairs = list(pipelines)
        return cls(frozenset(key(name) for name, _ in pairs),
                   frozenset(key(t) for _, t in pairs) | frozenset(key(w) for w in COMMAND_WORDS))


# --------------------------------------------------------------------------- reading files

def read_limited(path: Path, folder: Path) -> bytes:
    """The bytes of one file of a definition folder: no link out of it, at most MAX_FILE_BYTES."""
    if path.is_symlink() or path.resolve().parent != folder.resolve():
        raise DefinitionError(f"{path}: 定義フォルダの外を指すリンクは使えません。ファイルをフォルダに直接置いてください。")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DefinitionError(f"{path}: ファイルが大きすぎます（{size:,} バイト）。上限は {MAX_FILE_BYTES:,} バイトです。")
    return path.read_bytes()


def _decode(data: bytes, where: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise DefinitionError(f"{where}: ファイルが大きすぎます（{len(data):,} バイト）。上限は {MAX_FILE_BYTES:,} バイトです。")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DefinitionError(f"{where} の {line} 行目: UTF-8 ではありません。文字コードを UTF-8 にして保存し直してください。") from None


def load_folder(folder: Path, reserved: Reserved) -> Definition:
    """Read and check the definition in `folder` (its name is the id)."""
    toml_path = folder / "pipeline.toml"
    if not toml_path.is_file():
        raise DefinitionError(f"{folder}: pipeline.toml がありません。")
    files = {name: read_limited(folder / name, folder) for name in FILE_NAMES[1:] if (folder / name).exists()}
    return parse_definition(folder.name, read_limited(toml_path, folder), files, toml_path, reserved)


def folders(directory: Path) -> list[Path]:
    """The definition folders under `directory` (hidden ones skipped), at most MAX_PIPELINES."""
    if not directory.is_dir():
        return []
    found = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if len(found) > MAX_PIPELINES:
        raise DefinitionError(f"{directory}: パイプラインの定義が多すぎます（{len(found)} 個）。上限は {MAX_PIPELINES} 個です。")
    return found


def load_directory(directory: Path, reserved: Reserved) -> list[Definition]:
    """Every definition under `directory`; the first mistake raises (start-up stops)."""
    definitions: list[Definition] = []
    for folder in folders(directory):
        definitions.append(load_folder(folder, reserved))
    check_titles(definitions)
    return definitions


def check_titles(definitions: Iterable[Definition]) -> None:
    seen: dict[str, Definition] = {}
    for definition in definitions:
        for word in {key(definition.id), key(definition.title)}:
            if (other := seen.get(word)) is not None and other.id != definition.id:
                raise DefinitionError(f"{definition.where}: 名前「{definition.title}」が {other.where} と重なっています。別の title にしてください。")
            seen[word] = definition


# --------------------------------------------------------------------------- checking

def parse_definition(pipeline_id: str | None, toml_data: bytes, files: Mapping[str, bytes], where: Path,
                     reserved: Reserved) -> Definition:
    """Check one definition: `toml_data` is pipeline.toml, `files` the optional system.md / user.md beside it.
    `pipeline_id` None: take it from the `id` key (a file sent from Teams)."""
    text = _decode(toml_data, str(where))
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # "… (at line N, column M)"
        raise DefinitionError(f"{where}: TOML として読めません（{_japanese_toml_error(exc)}）。") from None
    try:
        spec = PipelineFile.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(_validation_message(exc, text, where)) from None
    if pipeline_id is None:
        if not spec.id:
            raise DefinitionError(f"{where}: id がありません。パイプラインの id（半角英小文字で始まる英数字）を id = \"…\" で書いてください。")
        pipeline_id = spec.id
    elif spec.id is not None and spec.id != pipeline_id:
        raise DefinitionError(f"{where} の {_line_of(text, ('id',))} 行目: id「{spec.id}」がフォルダ名「{pipeline_id}」と違います。")
    if not ID_PATTERN.fullmatch(pipeline_id):
        raise DefinitionError(f"{where}: id「{pipeline_id}」は使えません。半角英小文字で始まり、英小文字・数字・- _ だけの2〜32文字にしてください。")
    if key(pipeline_id) in reserved.ids or key(pipeline_id) in reserved.titles:
        raise DefinitionError(f"{where}: id「{pipeline_id}」は標準の機能またはコマンドと同じです。別の id にしてください。")
    if key(spec.title) in reserved.titles or key(spec.title) in reserved.ids:
        raise DefinitionError(f"{where} の {_line_of(text, ('title',))} 行目: title「{spec.title}」は標準の機能またはコマンドと同じです。別の名前にしてください。")
    system_text, system = _template(spec.system, files.get("system.md"), "system", text, where)
    user_text, user = _template(spec.user, files.get("user.md"), "user", text, where)
    if system is None and user is None:
        raise DefinitionError(f"{where}: プロンプトがありません。system.md を置くか、pipeline.toml に system = \"\"\"…\"\"\" を書いてください。")
    if user is None:
        user_text, user = DEFAULT_USER, Template(DEFAULT_USER)
    elif "input" not in user.get_identifiers():
        raise DefinitionError(f"{_where_of(spec.user, 'user', text, where)}: ユーザープロンプトに ${{input}} がありません（利用者の文章が入る場所です）。")
    if system is None:
        system_text, system = "", Template("")
    return Definition(pipeline_id, spec, system, user, where, system_text, user_text)


def _template(inline: str | None, data: bytes | None, name: str, toml_text: str, where: Path) -> tuple[str, Template | None]:
    """The `name` prompt, from the key in pipeline.toml or from `<name>.md` beside it (not both); checked."""
    if inline is not None and data is not None:
        raise DefinitionError(f"{where} の {_line_of(toml_text, (name,))} 行目: {name} が pipeline.toml と {name}.md の両方にあります。どちらか一方にしてください。")
    if inline is None and data is None:
        return "", None
    if inline is not None:
        text, file, first = inline, where, _inline_first_line(toml_text, name)
    else:
        file = where.parent / f"{name}.md"
        text, first = _decode(data or b"", str(file)), 1
    if not text.strip():
        raise DefinitionError(f"{file}: {name} のプロンプトが空です。")
    template = Template(text)
    for number, line in enumerate(text.splitlines(), first):
        line_template = Template(line)
        if not line_template.is_valid():
            raise DefinitionError(f"{file} の {number} 行目: 不正な $ があります（文字の $ は $$ と書きます。使える変数: {_allowed()}）。")
        if unknown := [v for v in line_template.get_identifiers() if v not in PLACEHOLDERS]:
            raise DefinitionError(f"{file} の {number} 行目: 使えない変数 ${{{unknown[0]}}} があります（使える変数: {_allowed()}）。")
    if not template.is_valid():  # a `$` at a line end joined with the next: rare, but refused too
        raise DefinitionError(f"{file}: 不正な $ があります（文字の $ は $$ と書きます）。")
    return text, template


def _allowed() -> str:
    return "、".join(f"${{{name}}}" for name in PLACEHOLDERS)


def _where_of(inline: str | None, name: str, toml_text: str, where: Path) -> str:
    if inline is not None:
        return f"{where} の {_line_of(toml_text, (name,))} 行目"
    return str(where.parent / f"{name}.md")


_KEY_LINE = r'^\s*(?:"{0}"|\'{0}\'|{0})\s*='


def _line_of(text: str, loc: tuple[object, ...]) -> int | None:
    """The line where the key at pydantic location `loc` is written (examples[2].input → its line), or None."""
    lines = text.splitlines()
    start = 0
    names = [part for part in loc if isinstance(part, str)]
    if len(loc) >= 2 and loc[0] == "examples" and isinstance(loc[1], int):
        headers = [i for i, line in enumerate(lines) if re.match(r"^\s*\[\[\s*examples\s*\]\]", line)]
        if loc[1] < len(headers):
            start = headers[loc[1]]
            names = names[1:] or ["examples"]
            if len(names) == 1 and names[0] == "examples":
                return start + 1
        names = names or ["examples"]
    wanted = names[-1] if names else ""
    pattern = re.compile(_KEY_LINE.format(re.escape(wanted)) + r"|^\s*\[+\s*" + re.escape(wanted) + r"\s*\]+")
    for index in range(start, len(lines)):
        if pattern.match(lines[index]):
            return index + 1
    # keys written inline: `examples = [{ input = "…", … }]`
    for index in range(start, len(lines)):
        if re.search(r"(?:^|[{,\s])" + re.escape(wanted) + r"\s*=", lines[index]):
            return index + 1
    return None


def _inline_first_line(text: str, name: str) -> int:
    """The line of pipeline.toml where the first line of an inline prompt is."""
    line = _line_of(text, (name,)) or 1
    value = text.splitlines()[line - 1].split("=", 1)[1].strip()
    return line + 1 if value in ('"""', "'''") else line


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _japanese_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    if at := _TOML_AT.search(message):
        return f"{at.group(1)} 行目 {at.group(2)} 文字目: {_TOML_AT.sub('', message).strip()}"
    return message


_MESSAGES = {
    "extra_forbidden": "知らない項目です（書ける項目: {keys}）",
    "missing": "必須の項目がありません",
    "literal_error": "使えない値です（{expected}）",
}


def _validation_message(exc: ValidationError, text: str, where: Path) -> str:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        name = ".".join(str(part) for part in loc)
        kind = error["type"]
        if kind == "extra_forbidden":
            keys = ", ".join(Example.model_fields if loc[:1] == ("examples",) else PipelineFile.model_fields)
            what = _MESSAGES[kind].format(keys=keys)
        elif kind == "missing":
            what = _MESSAGES[kind]
        elif kind == "literal_error":
            what = _MESSAGES[kind].format(expected=error["ctx"]["expected"] if "ctx" in error else "")
        else:
            what = error["msg"]
        if kind == "missing":  # no line of its own: the line of the table it is missing from, if any
            line = _line_of(text, loc[:-1]) if len(loc) > 1 else None
        else:
            line = _line_of(text, loc)
        problems.append(f"{where} の {line} 行目: {name}: {what}" if line else f"{where}: {name}: {what}")
    return "\n".join(problems[:5]) + (f"\nほか {len(problems) - 5} 件" if len(problems) > 5 else "")
