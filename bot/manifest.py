"""The Teams app package: manifest.json + a colour icon + an outline icon, zipped (`hideki teams-package`).

Pure functions, no I/O except `write_package`. The manifest follows Teams app manifest schema v1.29; the
icons are drawn here (a speech bubble with an "H") and encoded by a tiny PNG writer (zlib + struct), so the
package needs no image library and no binary files.
"""
from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

MANIFEST_VERSION = "1.29"
SCHEMA_URL = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
DEFAULT_ACCENT = "#1E5AA8"  # a calm city-hall blue
COLOR_ICON, OUTLINE_ICON = "color.png", "outline.png"
COLOR_SIZE, OUTLINE_SIZE = 192, 32

# limits of the schema (and of Teams' own checks, which are the same for these fields)
LIMITS = {
    "name.short": 30, "name.full": 100, "description.short": 80, "description.full": 4000, "developer.name": 32,
    "commandLists": 3, "commands": 12, "command.title": 128, "command.description": 4000, "validDomains": 100,
}
SCOPES = ("team", "groupChat", "personal")
_COMMAND_TEXT = 128  # Teams shows about this much of a command's description; the schema allows more
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8}){0,2}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")  # Teams wants MAJOR.MINOR.PATCH


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value or ""))


@dataclass(frozen=True)
class PackageSettings:
    """What the manifest says about the app and its publisher (the CLI fills it from options)."""

    app_id: str  # the bot's Microsoft App ID (Entra app registration)
    version: str = "1.0.0"
    package_id: str = ""  # the Teams app id; defaults to app_id so rebuilding updates the same app
    short_name: str = "Hideki"
    full_name: str = "Hideki — 自治体職員のための Teams AI アシスタント"
    developer_name: str = "情報政策課"
    website_url: str = "https://www.city.example.jp/"
    privacy_url: str = "https://www.city.example.jp/privacy/"
    terms_url: str = "https://www.city.example.jp/terms/"
    accent_color: str = DEFAULT_ACCENT
    valid_domains: tuple[str, ...] = field(default_factory=tuple)


def _feature_list(registry_info: Sequence[Mapping[str, Any]]) -> str:
    return "、".join(str(p["title"]) for p in registry_info if p.get("name") != "chat")


def _examples(scope: str, registry_info: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Prompt starters: a message to try for each pipeline that declares one (in a 1:1 chat: the chat's)."""
    starters = []
    for p in registry_info:
        if not p.get("example") or (scope == "personal") != (p.get("name") == "chat"):
            continue
        where = "" if scope == "personal" else f"（{p['title']}のチャネルで）"
        starters.append({"title": f"例: {p['title']}", "description": f"{where}{p['description']}"[:_COMMAND_TEXT],
                         "type": "prompt", "prompt": str(p["example"])})
    return starters


def _commands(scope: str, registry_info: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The commands Teams suggests after @Hideki in `scope` (bot/commands.py parses them), then prompt starters."""
    faq = {"title": "FAQ状況", "description": "FAQ の件数と版、回答できなかった質問を表示します（管理者のみ）"}
    if scope == "personal":
        return [
            {"title": "ヘルプ", "description": "使い方と機能の一覧を表示します"},
            {"title": "設定", "description": "この1対1チャットの機能を表示します"},
            {"title": "リセット", "description": "この1対1チャットの会話の記憶を消します"},
            faq,
            *_examples(scope, registry_info),
        ][: LIMITS["commands"]]
    here = "このチャネル" if scope == "team" else "このグループチャット"
    bind = f"{here}の機能を切り替えます（管理者のみ）"
    if features := _feature_list(registry_info):
        bind = f"{bind}。機能: {features}"
    return [
        {"title": "ヘルプ", "description": f"使い方、機能の一覧、{here}の機能を表示します"},
        {"title": "設定", "description": f"{here}に設定されている機能を表示します"},
        {"title": "設定 <機能名>", "description": bind if len(bind) <= _COMMAND_TEXT else bind[: _COMMAND_TEXT - 1] + "…"},
        {"title": "設定 解除", "description": "Teams から行った機能の設定を解除します（管理者のみ）"},
        faq,
        *_examples(scope, registry_info),
    ][: LIMITS["commands"]]


def _full_description(registry_info: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "Hideki は自治体職員のための生成AIアシスタントです。チャネルで @Hideki とメンションすると、"
        "チャネルごとに決められた機能が答えます。プロンプトを書く必要はありません。"
        "1対1チャットでは会話の流れを覚える汎用アシスタントとして使えます。",
    ]
    if registry_info:
        lines.append("機能:")
        lines += [f"・{p['title']}: {p.get('description', '')}" for p in registry_info]
    lines.append("「ヘルプ」と送ると使い方を表示します。")
    return "\n".join(lines)


def build_manifest(settings: PackageSettings, registry_info: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The manifest.json for `settings`; `registry_info` lists the pipelines (name, title, description) for the
    descriptions and the 設定 command."""
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": settings.version,
        "id": settings.package_id or settings.app_id,
        "localizationInfo": {"defaultLanguageTag": "ja-jp"},
        "developer": {
            "name": settings.developer_name,
            "websiteUrl": settings.website_url,
            "privacyUrl": settings.privacy_url,
            "termsOfUseUrl": settings.terms_url,
        },
        "name": {"short": settings.short_name, "full": settings.full_name},
        "description": {
            "short": "自治体職員向けの生成AIアシスタント。やさしい日本語、FAQ回答、議事録作成など",
            "full": _full_description(registry_info),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": settings.accent_color,
        "bots": [
            {
                "botId": settings.app_id,
                "scopes": list(SCOPES),
                "supportsFiles": True,  # 1:1 files: FAQ sheets, transcripts, documents in; Word/Excel back (consent flow)
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": [scope], "commands": _commands(scope, registry_info)} for scope in SCOPES
                ],
            }
        ],
        "validDomains": list(settings.valid_domains),
    }


def _get(manifest: Mapping[str, Any], path: str) -> Any:
    value: Any = manifest
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def check_manifest(manifest: Mapping[str, Any], app_id: str | None = None) -> list[str]:
    """Problems (in Japanese) that Teams would reject; empty when the manifest is fine. Checked before writing."""
    problems: list[str] = []

    def need_text(path: str, limit: int | None = None) -> None:
        value = _get(manifest, path)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{path} がありません。")
        elif limit is not None and len(value) > limit:
            problems.append(f"{path} が長すぎます（{len(value)}文字、上限 {limit}文字）。")

    if manifest.get("manifestVersion") != MANIFEST_VERSION:
        problems.append(f"manifestVersion は {MANIFEST_VERSION} にしてください。")
    version = manifest.get("version")
    if not isinstance(version, str) or not _VERSION.match(version):
        problems.append("version は 1.0.0 のような形（メジャー.マイナー.パッチ）にしてください。")
    if not is_guid(str(manifest.get("id") or "")):
        problems.append("id は GUID（xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx）にしてください。")
    need_text("developer.name", LIMITS["developer.name"])
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        url = _get(manifest, f"developer.{key}")
        if not isinstance(url, str) or not url.lower().startswith("https://"):
            problems.append(f"developer.{key} は https:// で始まる URL にしてください。")
    need_text("name.short", LIMITS["name.short"])
    if _get(manifest, "name.full") is not None:
        need_text("name.full", LIMITS["name.full"])
    need_text("description.short", LIMITS["description.short"])
    need_text("description.full", LIMITS["description.full"])
    need_text("icons.color")
    need_text("icons.outline")
    if not _HEX_COLOR.match(str(manifest.get("accentColor") or "")):
        problems.append("accentColor は #1E5AA8 のような色コードにしてください。")
    tag = _get(manifest, "localizationInfo.defaultLanguageTag")
    if tag is not None and not _LANGUAGE_TAG.match(str(tag)):
        problems.append("localizationInfo.defaultLanguageTag が言語タグ（ja-jp など）ではありません。")
    domains = manifest.get("validDomains") or []
    if len(domains) > LIMITS["validDomains"]:
        problems.append(f"validDomains は {LIMITS['validDomains']}件までです。")

    bots = manifest.get("bots")
    if not isinstance(bots, list) or len(bots) != 1 or not isinstance(bots[0], Mapping):
        problems.append("bots にボットを1つ書いてください。")
        return problems
    bot = bots[0]
    bot_id = str(bot.get("botId") or "")
    if not is_guid(bot_id):
        problems.append("bots[0].botId は GUID（ボットの MicrosoftAppId）にしてください。")
    elif app_id is not None and bot_id.lower() != app_id.lower():
        problems.append("bots[0].botId が MicrosoftAppId と違います。")
    scopes = bot.get("scopes")
    if not isinstance(scopes, list) or not scopes or any(s not in (*SCOPES, "copilot") for s in scopes):
        problems.append("bots[0].scopes には team、groupChat、personal を書いてください。")
    lists = bot.get("commandLists") or []
    if len(lists) > LIMITS["commandLists"]:
        problems.append(f"commandLists は {LIMITS['commandLists']}個までです。")
    for i, entry in enumerate(lists):
        commands = entry.get("commands") or []
        if not entry.get("scopes"):
            problems.append(f"commandLists[{i}].scopes がありません。")
        if len(commands) > LIMITS["commands"]:
            problems.append(f"commandLists[{i}] のコマンドは {LIMITS['commands']}個までです。")
        for j, command in enumerate(commands):
            title, text = command.get("title") or "", command.get("description") or ""
            if not title or len(title) > LIMITS["command.title"]:
                problems.append(f"commandLists[{i}].commands[{j}].title がないか長すぎます。")
            if len(text) > LIMITS["command.description"]:
                problems.append(f"commandLists[{i}].commands[{j}].description が長すぎます。")
    return problems


# --- icons ----------------------------------------------------------------------------------------------------

def encode_png(width: int, height: int, rgba: bytes) -> bytes:
    """An 8-bit RGBA PNG (colour type 6, filter 0 on every row)."""
    if len(rgba) != width * height * 4:
        raise ValueError("pixel data does not match the size")
    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride:(y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _in_rounded_rect(x: float, y: float, x0: float, y0: float, x1: float, y1: float, r: float) -> bool:
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _in_triangle(x: float, y: float, a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
    def side(p, q):
        return (x - q[0]) * (p[1] - q[1]) - (p[0] - q[0]) * (y - q[1])

    d1, d2, d3 = side(a, b), side(b, c), side(c, a)
    return not ((d1 < 0 or d2 < 0 or d3 < 0) and (d1 > 0 or d2 > 0 or d3 > 0))


def _bubble(x: float, y: float) -> bool:
    """The speech bubble, in unit coordinates (0..1, y down): a rounded box with a tail at the lower left."""
    return _in_rounded_rect(x, y, 0.10, 0.14, 0.90, 0.72, 0.14) or _in_triangle(x, y, (0.24, 0.68), (0.46, 0.68), (0.18, 0.90))


def _letter_h(x: float, y: float) -> bool:
    """A bold "H" centred in the bubble."""
    top, bottom = 0.25, 0.61
    if not top <= y <= bottom:
        return False
    left_bar = 0.33 <= x <= 0.43
    right_bar = 0.57 <= x <= 0.67
    cross = 0.33 <= x <= 0.67 and 0.385 <= y <= 0.475
    return left_bar or right_bar or cross


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def color_icon(accent: str = DEFAULT_ACCENT, size: int = COLOR_SIZE, samples: int = 4) -> bytes:
    """The 192×192 colour icon: a white speech bubble with an accent-coloured "H" on an accent background
    (edges anti-aliased by supersampling)."""
    accent_rgb, white_rgb = _hex_rgb(accent), (255, 255, 255)
    out = bytearray()
    n = samples * samples

    def white(x: float, y: float) -> bool:
        return _bubble(x, y) and not _letter_h(x, y)

    for py in range(size):
        for px in range(size):
            corners = {white((px + dx) / size, (py + dy) / size) for dx in (0.0, 1.0) for dy in (0.0, 1.0)}
            if len(corners) == 1:  # the shapes are many pixels wide: same corners, same whole pixel
                t = 1.0 if corners.pop() else 0.0
            else:
                t = sum(
                    white((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size)
                    for sy in range(samples) for sx in range(samples)
                ) / n
            out += bytes(round(a + (w - a) * t) for a, w in zip(accent_rgb, white_rgb)) + b"\xff"
    return encode_png(size, size, bytes(out))


def outline_icon(size: int = OUTLINE_SIZE) -> bytes:
    """The 32×32 outline icon: only white and fully transparent pixels, as Teams requires (the bubble in white,
    the "H" cut out)."""
    out = bytearray()
    for py in range(size):
        for px in range(size):
            x, y = (px + 0.5) / size, (py + 0.5) / size
            out += b"\xff\xff\xff\xff" if _bubble(x, y) and not _letter_h(x, y) else b"\x00\x00\x00\x00"
    return encode_png(size, size, bytes(out))


# --- the package ----------------------------------------------------------------------------------------------

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # same inputs, same zip bytes


def write_package(path: str | Path, manifest: Mapping[str, Any], color_png: bytes, outline_png: bytes) -> Path:
    """Write the zip Teams takes: manifest.json and the two icons at the top level (no folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    files: Iterable[tuple[str, bytes]] = (
        ("manifest.json", (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")),
        (str(_get(manifest, "icons.color") or COLOR_ICON), color_png),
        (str(_get(manifest, "icons.outline") or OUTLINE_ICON), outline_png),
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return path
