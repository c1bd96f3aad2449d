"""`hideki teams-package`: the zip, its manifest against the official schema, the generated icons."""
from __future__ import annotations

import copy
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot import manifest as tp
from hideki.cli.main import main

APP_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "teams" / "MicrosoftTeams.schema.json"


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No .env or settings file of the developer's: an empty working and data directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def package(isolated) -> zipfile.ZipFile:
    out = isolated / "out" / "hideki-teams.zip"
    assert main(["teams-package", "--output", str(out), "--app-id", APP_ID, "--developer-name", "さくら市 情報政策課",
                 "--website-url", "https://www.city.sakura.example.jp/hideki/", "--version", "1.2.3"]) == 0
    with zipfile.ZipFile(out) as archive:
        yield archive


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """A minimal PNG reader for what we write (8-bit RGBA), decoding every filter type to be safe."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert (depth, colour_type, interlace) == (8, 6, 0)
    raw, stride, prev, pixels = zlib.decompress(idat), width * 4, bytearray(width * 4), []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left, up, ul = (line[i - 4] if i >= 4 else 0), prev[i], (prev[i - 4] if i >= 4 else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
        pixels += [tuple(line[i:i + 4]) for i in range(0, stride, 4)]
        prev = line
    return width, height, pixels


def test_zip_holds_manifest_and_icons_at_the_top(package) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["manifestVersion"] == tp.MANIFEST_VERSION
    assert manifest["$schema"].endswith(f"/v{tp.MANIFEST_VERSION}/MicrosoftTeams.schema.json")
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.2.3"
    assert manifest["developer"]["name"] == "さくら市 情報政策課"
    assert manifest["localizationInfo"] == {"defaultLanguageTag": "ja-jp"}
    bot = manifest["bots"][0]
    assert bot["scopes"] == ["team", "groupChat", "personal"]
    assert bot["supportsFiles"] is True and bot["isNotificationOnly"] is False
    by_scope = {entry["scopes"][0]: [c["title"] for c in entry["commands"]] for entry in bot["commandLists"]}
    assert set(by_scope) == {"team", "groupChat", "personal"}
    assert {"ヘルプ", "設定", "設定 <機能名>", "FAQ状況"} <= set(by_scope["team"])
    assert "リセット" in by_scope["personal"] and "リセット" not in by_scope["team"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert tp.check_manifest(manifest, app_id=APP_ID) == []


def test_commands_in_the_manifest_are_commands_the_bot_parses(package) -> None:
    from bot.commands import parse

    manifest = json.loads(package.read("manifest.json"))
    for entry in manifest["bots"][0]["commandLists"]:
        for command in entry["commands"]:
            if command.get("type") == "prompt":  # a prompt starter sends its prompt: ordinary input for a pipeline
                assert parse(command["prompt"]) is None, command["prompt"]
            else:
                assert parse(command["title"]) is not None, command["title"]
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128  # what Teams displays


def test_every_scope_offers_help_settings_and_prompt_starters(package) -> None:
    manifest = json.loads(package.read("manifest.json"))
    by_scope = {entry["scopes"][0]: entry["commands"] for entry in manifest["bots"][0]["commandLists"]}
    assert set(by_scope) == {"personal", "team", "groupChat"}
    for scope, commands in by_scope.items():
        titles = [c["title"] for c in commands]
        assert "ヘルプ" in titles and "設定" in titles, scope
        starters = [c for c in commands if c.get("type") == "prompt"]
        assert starters and all(c["prompt"] for c in starters), scope
    assert {c["title"] for c in by_scope["team"] if c.get("type") == "prompt"} == {"例: やさしい日本語", "例: サービスデスク"}


def test_manifest_is_valid_against_the_official_schema(package) -> None:
    if not SCHEMA.exists():
        pytest.skip(f"Teams schema not available at {SCHEMA}")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    manifest = json.loads(package.read("manifest.json"))
    assert schema["properties"]["manifestVersion"]["const"] == manifest["manifestVersion"]
    # the file says draft-04 but uses `const` and `if`/`then` from later drafts: check with both
    for validator in (jsonschema.Draft4Validator, jsonschema.Draft7Validator):
        errors = sorted(validator(schema, format_checker=validator.FORMAT_CHECKER).iter_errors(manifest), key=str)
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_icons_have_teams_sizes_and_the_outline_is_white_on_transparent(package) -> None:
    width, height, colour = read_png(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(a == 255 for *_, a in colour)  # the colour icon is opaque
    accent = tuple(int(tp.DEFAULT_ACCENT[i:i + 2], 16) for i in (1, 3, 5))
    assert colour[0][:3] == accent and (255, 255, 255, 255) in colour  # accent background, white mark

    width, height, outline = read_png(package.read("outline.png"))
    assert (width, height) == (32, 32)
    assert set(outline) <= {(255, 255, 255, 255), (0, 0, 0, 0)}
    white = sum(p == (255, 255, 255, 255) for p in outline)
    assert 100 < white < 32 * 32 - 100  # a mark, not an empty or a full square


def test_icons_decode_with_pillow_too_when_it_is_installed() -> None:
    image = pytest.importorskip("PIL.Image")
    import io

    with image.open(io.BytesIO(tp.outline_icon())) as outline:
        assert outline.size == (32, 32) and outline.mode == "RGBA"
        data = outline.tobytes()
        assert {data[i:i + 4] for i in range(0, len(data), 4)} <= {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}
    with image.open(io.BytesIO(tp.color_icon("#AA3300"))) as colour:
        assert colour.size == (192, 192) and colour.getpixel((0, 0)) == (0xAA, 0x33, 0x00, 255)


def _good_manifest() -> dict:
    info = [{"name": "yasashii", "title": "やさしい日本語", "description": "公用文をやさしい日本語に書き換えます。"}]
    return tp.build_manifest(tp.PackageSettings(app_id=APP_ID), info)


def test_check_manifest_catches_a_missing_field_and_a_too_long_description() -> None:
    assert tp.check_manifest(_good_manifest(), app_id=APP_ID) == []

    missing = _good_manifest()
    del missing["developer"]["privacyUrl"]
    assert any("developer.privacyUrl" in p for p in tp.check_manifest(missing))

    too_long = _good_manifest()
    too_long["description"]["short"] = "あ" * 81
    problems = tp.check_manifest(too_long)
    assert any("description.short" in p and "81" in p for p in problems)

    full = _good_manifest()
    full["description"]["full"] = "い" * 4001
    assert any("description.full" in p for p in tp.check_manifest(full))


def test_check_manifest_catches_ids_scopes_and_names() -> None:
    bad = _good_manifest()
    bad["id"] = "not-a-guid"
    bad["name"]["short"] = "長" * 31
    bad["bots"][0]["scopes"] = []
    bad["accentColor"] = "blue"
    problems = tp.check_manifest(bad)
    assert any(p.startswith("id ") for p in problems)
    assert any("name.short" in p for p in problems)
    assert any("scopes" in p for p in problems)
    assert any("accentColor" in p for p in problems)
    other_bot = copy.deepcopy(_good_manifest())
    assert any("botId" in p for p in tp.check_manifest(other_bot, app_id="11111111-2222-3333-4444-555555555555"))


def test_missing_app_id_fails_with_a_japanese_message(isolated, capsys) -> None:
    out = isolated / "hideki-teams.zip"
    assert main(["teams-package", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "アプリ ID がありません" in err and "MicrosoftAppId" in err
    assert not out.exists()


def test_app_id_comes_from_the_settings(isolated, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    out = isolated / "hideki-teams.zip"
    assert main(["teams-package", "--output", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["bots"][0]["botId"] == APP_ID
    assert "example.jp" in capsys.readouterr().err  # the placeholder URLs are pointed out


def test_bad_options_write_nothing(isolated, capsys) -> None:
    out = isolated / "hideki-teams.zip"
    assert main(["teams-package", "--output", str(out), "--app-id", "abc"]) == 2
    assert "GUID" in capsys.readouterr().err
    assert main(["teams-package", "--output", str(out), "--app-id", APP_ID, "--website-url", "ftp://x"]) == 2
    assert "websiteUrl" in capsys.readouterr().err
    assert not out.exists()


def test_same_inputs_give_the_same_zip(isolated) -> None:
    args = ["teams-package", "--app-id", APP_ID, "--version", "1.0.0"]
    assert main([*args, "--output", "a.zip"]) == 0 and main([*args, "--output", "b.zip"]) == 0
    assert (isolated / "a.zip").read_bytes() == (isolated / "b.zip").read_bytes()
