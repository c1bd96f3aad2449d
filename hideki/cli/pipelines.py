"""`hideki pipelines list|check|new`: custom pipelines defined by files under $HIDEKI_DATA_DIR/pipelines/."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

TEMPLATE = '''\
# {id}: 説明は docs/custom-pipelines.md
title = "{title}"
description = "（ヘルプに出る1行の説明）"
# temperature = 0.2
# max_input_chars = 20000
# file_types = [".docx", ".pdf"]
# output = "text"          # "table" にすると、回答の表を CSV でも返す
# steps = ["check_facts"]  # "furigana"、"check_facts"、"check_pii"
# offline = "summary"      # 生成AIモデルがないときの処理: "summary"、"furigana"、"yasashii"

system = """
あなたは市役所の職員を手伝うアシスタントです。（ここに指示を書く）
"""

user = """
次の文章を処理してください。

${{input}}
"""
'''


def register(subparsers) -> None:
    p = subparsers.add_parser("pipelines", help="list, check or create custom pipelines ($HIDEKI_DATA_DIR/pipelines)")
    sub = p.add_subparsers(dest="pipelines_command", required=True)
    sub.add_parser("list", help="the custom pipelines and the shipped examples").set_defaults(func=list_pipelines)
    check = sub.add_parser("check", help="check every definition; exit 1 naming the file and line of each problem")
    check.add_argument("folder", nargs="?", type=Path, help="one definition folder (default: all of them)")
    check.set_defaults(func=check_pipelines)
    new = sub.add_parser("new", help="create a definition folder to edit")
    new.add_argument("id", help="the new pipeline's id (lower-case letters, digits, - _)")
    new.add_argument("--from", dest="example", help="copy a shipped example (see `hideki pipelines list`)")
    new.set_defaults(func=new_pipeline)


def _directory() -> Path:
    from hideki.settings import load_settings

    return load_settings().custom_pipelines_dir


def list_pipelines(args: argparse.Namespace) -> int:
    from channels import RESERVED
    from channels.definitions import DefinitionError, folders, load_folder

    directory = _directory()
    print(f"# {directory}")
    for folder in folders(directory):
        try:
            definition = load_folder(folder, RESERVED)
        except DefinitionError:
            print(f"{folder.name}\t（定義に誤りがあります: hideki pipelines check）")
            continue
        print(f"{definition.id}\t{definition.title}\t{definition.spec.description}")
    print("# 同梱の例（hideki pipelines new <id> --from <例>）")
    for definition in _examples():
        print(f"{definition.id}\t{definition.title}\t{definition.spec.description}")
    return 0


def _examples():
    from channels import RESERVED
    from channels.definitions import EXAMPLES_DIR, load_directory

    return load_directory(EXAMPLES_DIR, RESERVED)


def check_pipelines(args: argparse.Namespace) -> int:
    from channels import RESERVED
    from channels.definitions import DefinitionError, check_titles, folders, load_folder

    try:
        targets = [args.folder] if args.folder else folders(_directory())
    except DefinitionError as exc:
        print(f"NG  {exc}", file=sys.stderr)
        return 1
    loaded, problems = [], 0
    for folder in targets:
        try:
            loaded.append(load_folder(folder, RESERVED))
        except (DefinitionError, OSError) as exc:
            problems += 1
            print(f"NG  {folder.name}: {exc}", file=sys.stderr)
        else:
            print(f"OK  {folder.name}: {loaded[-1].title}")
    try:
        check_titles(loaded)
    except DefinitionError as exc:
        problems += 1
        print(f"NG  {exc}", file=sys.stderr)
    if not targets:
        print("（定義はまだありません: hideki pipelines new <id>）")
    return 1 if problems else 0


def new_pipeline(args: argparse.Namespace) -> int:
    from channels.definitions import EXAMPLES_DIR, ID_PATTERN

    if not ID_PATTERN.fullmatch(args.id):
        print(f"id「{args.id}」は使えません。半角英小文字で始まり、英小文字・数字・- _ だけの2〜32文字にしてください。", file=sys.stderr)
        return 2
    target = _directory() / args.id
    if target.exists():
        print(f"{target} はもうあります。", file=sys.stderr)
        return 1
    if args.example:
        source = EXAMPLES_DIR / args.example
        if args.example not in {d.id for d in _examples()}:
            print(f"例「{args.example}」はありません。hideki pipelines list で確かめてください。", file=sys.stderr)
            return 2
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True)
        (target / "pipeline.toml").write_text(TEMPLATE.format(id=args.id, title=args.id), encoding="utf-8")
    print(f"{target} を作りました。編集してから hideki pipelines check で確かめてください。動いている Hideki は数秒で読み込みます。")
    return 0
