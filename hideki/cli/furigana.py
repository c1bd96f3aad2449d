"""`hideki furigana`: add readings to text from stdin, or print reading tokens as JSON lines."""
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
        help="print stdin with readings (furigana), computed locally",
        description="Reads text on stdin and prints it with readings: 漢字(かんじ) or <ruby> HTML.",
    )
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
        help="at the end, list on stderr the words whose reading is a guess (person names, unknown words)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Stream stdin line by line so very long inputs never sit in memory at once."""
    from hideki.japanese.readings import ReadingEngine

    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    try:
        engine = ReadingEngine(args.dicts)
    except (OSError, ValueError) as exc:
        print(f"hideki furigana: {exc}", file=sys.stderr)
        return 2
    if args.grade is not None and not 0 <= args.grade <= 7:
        print("hideki furigana: --grade must be between 0 and 7", file=sys.stderr)
        return 2
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
        words = "、".join(f"{surface}({reading})" for surface, reading in guessed) or "なし"
        print(f"読みが推定の語（人名・辞書にない語）: {words}", file=sys.stderr)
    return 0
