"""`hideki pii`: find (or mask) personal information in text from stdin, locally."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from hideki.pii.detect import CATEGORIES, LABELS, describe, find_pii, mask


def register(subparsers) -> None:
    """Add the `pii` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "pii",
        help="find personal information in stdin (computed locally)",
        description="Reads text on stdin and lists personal information found in it: 個人番号, 電話番号, "
                    "メールアドレス, 住所, 口座番号, 生年月日, 氏名. Offsets are character offsets into the input.",
    )
    p.add_argument("--json", action="store_true",
                   help='one JSON object per finding: {"category","start","end","text"} '
                        '(with --mask: one object {"text","mapping"})')
    p.add_argument("--mask", action="store_true", help="print the text with placeholders such as ［氏名1］")
    p.add_argument("--category", dest="categories", action="append", choices=CATEGORIES, metavar="NAME",
                   help=f"only this category (repeatable): {', '.join(CATEGORIES)}")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    text = stdin.read()
    findings = find_pii(text, args.categories)
    if args.mask:
        masked, mapping = mask(text, findings)
        if args.json:
            stdout.write(json.dumps({"text": masked, "mapping": mapping}, ensure_ascii=False) + "\n")
        else:
            stdout.write(masked)
    elif args.json:
        for f in findings:
            record = {"category": f.category, "start": f.start, "end": f.end, "text": f.text}
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        for f in findings:
            line = text.count("\n", 0, f.start) + 1
            stdout.write(f"{line}行目 [{f.start}:{f.end}] {LABELS[f.category]}: {f.text}\n")
        stdout.write(describe(findings) + "\n")
    stdout.flush()
    return 0
