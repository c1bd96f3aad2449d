"""`hideki pipelines list|check|new|apply|history|rollback|remove`: custom pipelines defined by files under
$HIDEKI_DATA_DIR/pipelines/, and their versions in the database (channels.stored), shared by every replica."""
from __future__ import annotations

import argparse
import getpass
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
    p = subparsers.add_parser("pipelines", help="list, check, create, apply or roll back custom pipelines ($HIDEKI_DATA_DIR/pipelines)")
    sub = p.add_subparsers(dest="pipelines_command", required=True)
    sub.add_parser("list", help="the custom pipelines and the shipped examples").set_defaults(func=list_pipelines)
    check = sub.add_parser("check", help="check every definition; exit 1 naming the file and line of each problem")
    check.add_argument("folder", nargs="?", type=Path, help="one definition folder (default: all of them)")
    check.set_defaults(func=check_pipelines)
    new = sub.add_parser("new", help="create a definition folder to edit")
    new.add_argument("id", help="the new pipeline's id (lower-case letters, digits, - _)")
    new.add_argument("--from", dest="example", help="copy a shipped example (see `hideki pipelines list`)")
    new.set_defaults(func=new_pipeline)
    apply = sub.add_parser("apply", help="check a one-file definition and store it as a new version (every replica serves it)")
    apply.add_argument("file", type=Path, help="a pipeline.toml with its prompts inline (named <id>.toml, or with id = \"…\")")
    apply.add_argument("--who", default=None, help="recorded in the history (default: the login name)")
    apply.set_defaults(func=apply_pipeline)
    history = sub.add_parser("history", help="the stored versions: who, when, what changed (* = serving)")
    history.add_argument("id", nargs="?", help="one pipeline (default: all)")
    history.set_defaults(func=show_history)
    rollback = sub.add_parser("rollback", help="serve an earlier stored version again (recorded as a new version)")
    rollback.add_argument("id")
    rollback.add_argument("version", type=int)
    rollback.add_argument("--who", default=None)
    rollback.set_defaults(func=rollback_pipeline)
    remove = sub.add_parser("remove", help="stop serving a stored pipeline on every replica (kept in the history)")
    remove.add_argument("id")
    remove.add_argument("--who", default=None)
    remove.set_defaults(func=remove_pipeline)


def _directory() -> Path:
    from hideki.settings import load_settings

    return load_settings().custom_pipelines_dir


def _store():
    from channels.stored import DefinitionStore
    from hideki.settings import load_settings
    from hideki.state.db import open_database

    return DefinitionStore(open_database(load_settings()))


def _who(args: argparse.Namespace) -> str:
    return args.who or getpass.getuser()


def _write_here(store) -> None:
    """Write the stored change into this machine's folder now (the running bots do it within seconds)."""
    from channels import RESERVED
    from channels.stored import FolderSync

    FolderSync(store, _directory(), RESERVED).sync()


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
    store = _store()
    stored = [store.get(pipeline_id, version) for pipeline_id, version in sorted(store.serving().items())]
    if any(v is not None and v.action != "removed" for v in stored):
        print("# データベースに保存された定義（使用中の版。hideki pipelines history）")
        for v in stored:
            if v is not None and v.action != "removed":
                print(f"{v.pipeline_id}\t版 {v.version}\t{v.when}\t{v.who}")
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


def apply_pipeline(args: argparse.Namespace) -> int:
    from channels import RESERVED
    from channels.definitions import DefinitionError
    from channels.stored import check_new, describe_change, existing

    directory = _directory()
    try:
        data = args.file.read_bytes()
        stem = args.file.stem
        definition = check_new(None if stem == "pipeline" else stem, data, args.file, directory, RESERVED)
    except (DefinitionError, OSError) as exc:
        print(f"反映できません: {exc}", file=sys.stderr)
        return 1
    store = _store()
    note = describe_change(existing(directory, definition.id, RESERVED), definition, done=True)
    version = store.apply(definition.id, data.decode("utf-8-sig"), _who(args), note)
    _write_here(store)
    print(f"{note}。版 {version} として保存しました。動いている Hideki は数秒で読み込みます。")
    return 0


def show_history(args: argparse.Namespace) -> int:
    from channels.stored import ACTIONS

    store = _store()
    serving = store.serving()
    versions = store.history(args.id)
    if not versions:
        print("保存された定義はありません（hideki pipelines apply、または Teams から送って反映すると記録されます）。")
    for v in versions:
        mark = "*" if serving.get(v.pipeline_id) == v.version else " "
        print(f"{mark} {v.pipeline_id}  版 {v.version}  {v.when}  {ACTIONS[v.action]}  {v.who}  {v.note}")
    return 0


def rollback_pipeline(args: argparse.Namespace) -> int:
    from channels import RESERVED
    from channels.definitions import DefinitionError
    from channels.stored import StoreError, check_new

    store = _store()
    old = store.get(args.id, args.version)
    try:
        if old is not None and old.action != "removed":  # the same checks as a new upload (titles may clash now)
            check_new(args.id, old.definition.encode("utf-8"), Path(f"{args.id} 版 {args.version}"), _directory(), RESERVED)
        version = store.rollback(args.id, args.version, _who(args))
    except (DefinitionError, StoreError) as exc:
        print(f"戻せません: {exc}", file=sys.stderr)
        return 1
    _write_here(store)
    print(f"「{args.id}」を版 {args.version} の定義に戻しました（版 {version}）。動いている Hideki は数秒で読み込みます。")
    return 0


def remove_pipeline(args: argparse.Namespace) -> int:
    from channels.stored import StoreError

    store = _store()
    try:
        version = store.remove(args.id, _who(args))
    except StoreError as exc:
        print(exc, file=sys.stderr)
        return 1
    _write_here(store)
    print(f"「{args.id}」を削除しました（版 {version}。hideki pipelines rollback {args.id} <版> で戻せます）。")
    return 0
