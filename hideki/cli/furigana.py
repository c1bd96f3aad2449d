"""`hideki furigana`: readings on kanji — stdin to stdout, or a file to a Word document with ruby / an HTML page.

    hideki furigana < notice.txt                      # 漢字(かんじ) on stdout
    hideki furigana notice.docx -o notice-ruby.docx   # the same document with Word ruby (ルビ)
    hideki furigana notice.md -o notice.html          # <ruby> HTML

Readings come from the local engine with the admin dictionaries ($HIDEKI_DATA_DIR/dictionaries/readings*.tsv,
as in chat) and any --dict files.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from hideki.japanese.furigana import STYLES, render


def register(subparsers) -> None:
    """Add the `furigana` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "furigana",
        help="readings (furigana) on kanji: stdin to stdout, or a file to .docx with Word ruby / .html",
        description="Reads text on stdin and prints it with readings: 漢字(かんじ) or <ruby> HTML. "
                    "With a file (IN.docx, .txt, .md or .pdf) and -o OUT.docx / OUT.html, writes the document "
                    "with Word ruby (ルビ) or <ruby> HTML, keeping its structure and formatting.",
    )
    p.add_argument("input", nargs="?", type=Path, metavar="IN",
                   help="a .docx, .txt, .md or .pdf file (needs -o); without it, stdin is read")
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="the file to write: .docx (Word ruby) or .html (<ruby>), chosen by the suffix")
    p.add_argument("--style", choices=STYLES, default="inline", help="inline 漢字(かんじ) (default) or html <ruby>")
    p.add_argument(
        "--grade",
        type=int,
        default=None,
        metavar="N",
        help="only words with a kanji above school grade N (1-6; 7 = only kanji outside 常用漢字)",
    )
    p.add_argument(
        "--dict", dest="dicts", action="append", type=Path, default=[], metavar="FILE",
        help="extra user dictionary TSV (surface<TAB>reading[<TAB>note]); repeatable",
    )
    p.add_argument(
        "--tokens", action="store_true",
        help="print one JSON array of [surface, reading] pairs per input line instead",
    )
    p.add_argument(
        "--check", action="store_true",
        help="at the end, list on stderr the words whose reading is a guess (person names, unknown words); "
             "always done for a file",
    )
    p.set_defaults(func=run)


def admin_dictionaries() -> list[Path]:
    """The reading dictionaries the admins keep for the bot: $HIDEKI_DATA_DIR/dictionaries/readings*.tsv."""
    from hideki.settings import load_settings

    folder = load_settings().dictionaries_dir
    return sorted(folder.glob("readings*.tsv")) if folder.is_dir() else []


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """A file to a file when IN is given; else stream stdin line by line so long inputs never sit in memory."""
    from hideki.japanese.readings import ReadingEngine
    from hideki.settings import SettingsError

    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    if args.grade is not None and not 0 <= args.grade <= 7:
        print("hideki furigana: --grade must be between 0 and 7", file=sys.stderr)
        return 2
    if (args.input is None) != (args.output is None):
        print("hideki furigana: 入力ファイルと -o（出力ファイル）は一緒に指定してください。", file=sys.stderr)
        return 2
    try:
        engine = ReadingEngine([*admin_dictionaries(), *args.dicts])
    except (OSError, ValueError, SettingsError) as exc:
        print(f"hideki furigana: {exc}", file=sys.stderr)
        return 2
    if args.input is not None:
        return _run_file(args.input, args.output, engine, args.grade)
    guessed: dict[tuple[str, str], None] = {}
    for line in stdin:
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        if args.check:
            guessed.update(dict.fromkeys(engine.guessed(body)))
        if args.tokens:
            pairs = [[s, r] for s, r in engine.tokens(body)]
            stdout.write(json.dumps(pairs, ensure_ascii=False) + "\n")
        else:
            stdout.write(render(body, style=args.style, grade=args.grade, engine=engine) + ending)
    stdout.flush()
    if args.check:
        _print_guessed(guessed)
    return 0


def _run_file(source: Path, target: Path, engine, grade: int | None) -> int:
    from hideki.documents.files import DocumentError
    from hideki.documents.furigana_file import add_readings_to_file

    try:
        report = add_readings_to_file(source, target, engine, grade)
    except DocumentError as exc:
        print(f"hideki furigana: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a last guard: an odd document must end in a message, never a traceback
        print(f"hideki furigana: 文書を処理できませんでした（{type(exc).__name__}）。出力ファイルは作っていません。"
              "Word で開いて保存し直してから、もう一度試してください。", file=sys.stderr)
        return 2
    print(f"{target} に書き出しました（ルビ {report.words} 箇所）。", file=sys.stderr)
    if report.note():
        print(report.note(), file=sys.stderr)
    _print_guessed(report.guessed)
    return 0


def _print_guessed(guessed: dict[tuple[str, str], None]) -> None:
    words = "、".join(f"{surface}({reading})" for surface, reading in guessed) or "なし"
    print(f"読みが推定の語（人名・辞書にない語）: {words}", file=sys.stderr)
