"""`hideki faq …`: FAQ management for admins, over the same functions the bot uses."""
from __future__ import annotations

import argparse
import csv
import getpass
import io
import sys
from pathlib import Path

from knowledge.store import KnowledgeError

EXPORT_HEADER = ["id", "質問", "回答", "カテゴリ", "キーワード", "URL", "更新日"]


def register(subparsers: argparse._SubParsersAction) -> None:
    faq = subparsers.add_parser("faq", help="manage the service-desk FAQ (import, search, history, rollback …)")
    commands = faq.add_subparsers(dest="faq_command", required=True)

    p = commands.add_parser("import", help="import FAQ files (CSV, Excel, Markdown/TXT, Word, PDF, HTML)")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--mode", choices=["sync", "merge", "replace"], default="sync",
                   help="sync: the files replace their own earlier import (default); merge: add/update only; replace: the whole FAQ")
    p.add_argument("--dry-run", action="store_true", help="show the report and the changes, change nothing")
    p.add_argument("--who", default=None, help="recorded in the history (default: the login name)")
    p.set_defaults(func=_import)

    p = commands.add_parser("list", help="list the entries")
    p.add_argument("--category", default=None)
    p.set_defaults(func=_list)

    p = commands.add_parser("show", help="show one entry")
    p.add_argument("id")
    p.set_defaults(func=_show)

    p = commands.add_parser("search", help="search as the bot does, with scores")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.set_defaults(func=_search)

    p = commands.add_parser("remove", help="remove entries by id")
    p.add_argument("ids", nargs="+")
    p.add_argument("--who", default=None)
    p.set_defaults(func=_remove)

    p = commands.add_parser("export", help="export the FAQ as CSV (the import format)")
    p.add_argument("-o", "--output", type=Path, default=None, help="file (default: standard output)")
    p.set_defaults(func=_export)

    p = commands.add_parser("history", help="imports, removals and rollbacks")
    p.set_defaults(func=_history)

    p = commands.add_parser("rollback", help="serve an earlier version again")
    p.add_argument("version", type=int)
    p.add_argument("--who", default=None)
    p.set_defaults(func=_rollback)

    p = commands.add_parser("prune", help="delete old versions (never the serving one)")
    p.add_argument("--keep", type=int, default=10, help="how many of the newest versions to keep (default 10)")
    p.set_defaults(func=_prune)

    p = commands.add_parser("gaps", help="questions the FAQ could not answer, and answers marked 👎")
    p.set_defaults(func=_gaps)


def _settings():
    from hideki.settings import load_settings

    return load_settings()


def _kb(settings=None):
    from hideki.llm.tokens import install_offline_encodings
    from knowledge.startup import open_knowledge_base

    settings = settings or _settings()
    install_offline_encodings(settings.cache_dir / "tiktoken")
    return open_knowledge_base(settings)


def _who(args: argparse.Namespace) -> str:
    return args.who or getpass.getuser()


def _progress():
    from tqdm import tqdm

    bar: list = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc="索引を作成中", unit="件", file=sys.stderr, disable=total < 200))
        bar[0].n = done
        bar[0].refresh()
        if done >= total:
            bar[0].close()

    return update


def _import(args: argparse.Namespace) -> int:
    from knowledge.entries import ImportResult
    from knowledge.importers import read_source, validation_report

    merged = ImportResult()
    for path in args.files:
        result = read_source(path)
        merged.entries += result.entries
        merged.problems += result.problems
    print(validation_report(merged))
    if not merged.entries:
        print("取り込める FAQ がないため、何も変更していません。")
        return 1
    kb = _kb()
    if args.dry_run:
        print(f"反映すると: {kb.preview(merged.entries, args.mode).summary()}（--dry-run のため変更していません）")
        return 0
    names = ", ".join(p.name for p in args.files)
    try:
        version, change = kb.import_entries(merged.entries, _who(args), names, args.mode, progress=_progress())
    except KnowledgeError as error:
        print(error, file=sys.stderr)
        return 1
    if version is None:
        print("変更はありませんでした。")
    else:
        print(f"FAQ を更新しました（版 {version}）: {change.summary()}")
    return 0


EMPTY = ("FAQ がまだ登録されていません。`hideki faq import ファイル` で取り込むか、ボットを一度起動してください"
         "（初回の起動でサンプル FAQ が入ります）。")


def _list(args: argparse.Namespace) -> int:
    kb = _kb()
    if kb.current_version() is None:
        print(EMPTY, file=sys.stderr)
        return 1
    for entry in kb.entries():
        if args.category is None or entry.category == args.category:
            print(f"{entry.id}\t{entry.category}\t{entry.question}")
    return 0


def _show(args: argparse.Namespace) -> int:
    entry = _kb().get(args.id)
    if entry is None:
        print(f"ID {args.id} の FAQ はありません。", file=sys.stderr)
        return 1
    for label, value in (("ID", entry.id), ("質問", entry.question), ("回答", entry.answer), ("カテゴリ", entry.category),
                         ("キーワード", "、".join(entry.keywords)), ("URL", entry.url), ("更新日", entry.updated),
                         ("出典", f"{entry.source} {entry.location}".strip())):
        print(f"{label}: {value}")
    return 0


def _search(args: argparse.Namespace) -> int:
    kb = _kb()
    index = kb.index()
    if index is None:
        print(EMPTY, file=sys.stderr)
        return 1
    hits = index.search(args.query, args.k)
    for rank, hit in enumerate(hits, 1):
        mark = "✓" if index.answerable([hit]) else " "
        print(f"{rank}. {mark} {hit.score:.3f}  {hit.entry.id}  {hit.entry.question}")
    decision = index.decide(hits[:5])
    outcome = {"answer": "回答", "clarify": "聞き返し（次のどれについてですか？）", "decline": "回答しない（ヘルプデスクへ）"}
    print(f"✓ = 回答に使える類似度。ボットの対応: {outcome[decision.action]} {' '.join(decision.ids)}".rstrip()
          if hits else "該当なし")
    return 0


def _remove(args: argparse.Namespace) -> int:
    try:
        version, change = _kb().remove(args.ids, _who(args))
    except KnowledgeError as error:
        print(error, file=sys.stderr)
        return 1
    if version is None:
        print("該当する FAQ がありません。何も変更していません。", file=sys.stderr)
        return 1
    print(f"削除しました（版 {version}）: {change.summary()}")
    return 0


def export_csv(entries) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for e in entries:
        writer.writerow([e.id, e.question, e.answer, e.category, "、".join(e.keywords), e.url, e.updated])
    return out.getvalue()


def _export(args: argparse.Namespace) -> int:
    text = export_csv(_kb().entries())
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8-sig")  # with BOM, so Excel reads it as UTF-8
        print(f"{args.output} に書き出しました。", file=sys.stderr)
    return 0


def _history(args: argparse.Namespace) -> int:
    kb = _kb()
    current = kb.current_version()
    for record in kb.history():
        mark = "*" if record.get("version") == current else " "
        print(f"{mark} 版 {record.get('version')}  {record['at']}  {record['action']}  {record['who']}  "
              f"追加 {record['added']}・更新 {record['updated']}・削除 {record['removed']}  {record.get('note', '')}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    try:
        change = _kb().rollback(args.version, _who(args))
    except KnowledgeError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"版 {args.version} に戻しました: {change.summary()}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    if args.keep < 1:
        print("--keep は 1 以上にしてください。", file=sys.stderr)
        return 1
    dropped = _kb().prune(args.keep)
    print(f"古い版を削除しました: {', '.join(map(str, dropped))}" if dropped else "削除する古い版はありません。")
    return 0


def _gaps(args: argparse.Namespace) -> int:
    from hideki.state.db import open_database
    from hideki.state.stores import FeedbackStore

    from channels.servicedesk import confusion_line

    settings = _settings()
    store = FeedbackStore(open_database(settings))
    gaps = store.gaps()
    confusions = store.confusions()
    if not gaps and not confusions:
        print("回答できなかった質問も、👎 の付いた回答も、聞き返した質問もありません。")
    for gap in gaps:
        label = "未回答" if gap.kind == "unanswered" else "👎"
        print(f"{label}\t{gap.count}\t{gap.question}" + (f"\t{gap.cited}" if gap.cited else "")
              + (f"\t「{gap.comment}」" if gap.comment else ""))
    if confusions:
        kb = _kb(settings)
        questions = {e.id: e.question for e in kb.entries()}
        for confusion in confusions:
            line = confusion_line(confusion, lambda i: questions.get(i, f"（削除済み {i}）"))
            print(f"聞き返し\t{confusion.count}\t{line}")
    return 0
