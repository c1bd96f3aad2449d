"""`hideki teams-package --output FILE`: the Teams app zip (manifest.json + icons) to upload in Teams."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.manifest import PackageSettings  # light: stdlib only

# the defaults are placeholders for a city (example.jp); `run` says so when they are left in
_DEFAULTS = {
    "name": PackageSettings.short_name,
    "full_name": PackageSettings.full_name,
    "developer_name": PackageSettings.developer_name,
    "website_url": PackageSettings.website_url,
    "privacy_url": PackageSettings.privacy_url,
    "terms_url": PackageSettings.terms_url,
}

NO_APP_ID = (
    "Bot のアプリ ID がありません。--app-id で MicrosoftAppId（Entra のアプリ登録のアプリケーション ID、GUID）を"
    "指定するか、環境変数 MicrosoftAppId を設定してください。"
)


def register(subparsers) -> None:
    p = subparsers.add_parser("teams-package", help="build the Teams app package (zip) to upload in Teams")
    p.add_argument("--output", "-o", type=Path, required=True, help="the zip to write, e.g. hideki-teams.zip")
    p.add_argument("--app-id", help="the bot's Microsoft App ID (default: MicrosoftAppId from the settings)")
    p.add_argument("--package-id", help="the Teams app id (GUID; default: the app id)")
    p.add_argument("--version", dest="app_version", help="the app version, MAJOR.MINOR.PATCH (default: Hideki's version)")
    p.add_argument("--name", default=_DEFAULTS["name"], help="short name shown in Teams (≤30 characters)")
    p.add_argument("--full-name", default=_DEFAULTS["full_name"], help="full name (≤100 characters)")
    p.add_argument("--developer-name", default=_DEFAULTS["developer_name"], help="publisher, e.g. ○○市 情報政策課 (≤32)")
    p.add_argument("--website-url", default=_DEFAULTS["website_url"], help="support page (https)")
    p.add_argument("--privacy-url", default=_DEFAULTS["privacy_url"], help="privacy policy (https)")
    p.add_argument("--terms-url", default=_DEFAULTS["terms_url"], help="terms of use (https)")
    p.add_argument("--accent-color", default=None, help="icon background colour, #RRGGBB")
    p.add_argument("--valid-domain", action="append", default=[], help="a domain the app may open (repeatable)")
    p.set_defaults(func=run)


def _default_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("hideki")
    except PackageNotFoundError:
        return "1.0.0"
    parts = found.split(".")
    return found if len(parts) == 3 and all(part.isdigit() for part in parts) else "1.0.0"


def registry_info() -> list[dict[str, object]]:
    """The pipelines as the manifest describes them (class attributes only; nothing is instantiated)."""
    from channels import PIPELINES

    return [
        {"name": cls.name, "title": cls.title, "description": cls.description, "example": cls.example}
        for cls in PIPELINES
    ]


def run(args: argparse.Namespace) -> int:
    from bot import manifest as tp

    app_id = (args.app_id or "").strip()
    if not app_id:
        from hideki.settings import SettingsError, load_settings

        try:
            app_id = load_settings().app_id.strip()
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 2
    if not app_id:
        print(NO_APP_ID, file=sys.stderr)
        return 2
    if not tp.is_guid(app_id):
        print(f"アプリ ID「{app_id}」は GUID（xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx）ではありません。", file=sys.stderr)
        return 2

    settings = tp.PackageSettings(
        app_id=app_id,
        package_id=(args.package_id or "").strip(),
        version=args.app_version or _default_version(),
        short_name=args.name,
        full_name=args.full_name,
        developer_name=args.developer_name,
        website_url=args.website_url,
        privacy_url=args.privacy_url,
        terms_url=args.terms_url,
        accent_color=args.accent_color or tp.DEFAULT_ACCENT,
        valid_domains=tuple(dict.fromkeys(d.strip() for d in args.valid_domain if d.strip())),
    )
    manifest = tp.build_manifest(settings, registry_info())
    problems = tp.check_manifest(manifest, app_id=app_id)
    if problems:
        print("Teams アプリのマニフェストに問題があります。パッケージは作りませんでした:", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        return 2
    path = tp.write_package(args.output, manifest, tp.color_icon(settings.accent_color), tp.outline_icon())
    print(f"{path} を作りました（マニフェスト {tp.MANIFEST_VERSION}、版 {settings.version}、ボット {app_id}）。", file=sys.stderr)
    print("Teams 管理センターの「Teams アプリ > アプリを管理 > アップロード」、または Teams の「アプリ > アプリを管理 >"
          " カスタム アプリをアップロード」でアップロードしてください。", file=sys.stderr)
    defaults = [name for name in ("website_url", "privacy_url", "terms_url") if getattr(args, name) == _DEFAULTS[name]]
    if defaults or args.developer_name == _DEFAULTS["developer_name"]:
        print("注意: 開発者名や URL が既定値（example.jp）のままです。組織で配布する前に --developer-name、"
              "--website-url、--privacy-url、--terms-url で実際の値を指定してください。", file=sys.stderr)
    return 0
