"""`hideki usage`: requests, tokens and estimated cost from the audit log, by user, department, pipeline or month."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("usage", help="usage and estimated cost from the audit log")
    p.add_argument("--by", choices=["user", "department", "pipeline", "month"], default="pipeline")
    p.add_argument("--month", help="only this month, YYYY-MM")
    p.add_argument("--csv", type=Path, help="write the report as CSV (UTF-8 with BOM, for Excel)")
    p.set_defaults(func=run)


def _month_range(month: str) -> tuple[float, float]:
    year, mon = (int(part) for part in month.split("-"))
    start = time.mktime((year, mon, 1, 0, 0, 0, 0, 0, -1))
    end = time.mktime((year + mon // 12, mon % 12 + 1, 1, 0, 0, 0, 0, 0, -1))
    return start, end


def run(args: argparse.Namespace) -> int:
    from hideki.state.audit import DEFAULT_PRICES, AuditLog, load_departments, to_csv, usage
    from hideki.settings import load_settings
    from hideki.state.db import open_database

    settings = load_settings()
    log = AuditLog(open_database(settings), settings.audit_store_content, settings.audit_retention_days,
                   settings.audit_content_retention_days)
    try:
        since, until = _month_range(args.month) if args.month else (0.0, None)
    except ValueError:
        print("--month は 2026-11 のように書いてください。", file=sys.stderr)
        return 2
    report = usage(log.rows(since, until), args.by, load_departments(settings.departments_file), {**DEFAULT_PRICES, **settings.prices})
    if args.csv:
        args.csv.write_text(to_csv(report), encoding="utf-8-sig")
        print(f"{args.csv} に書き出しました（{len(report)}行）。", file=sys.stderr)
        return 0
    if not report:
        print("記録がありません。")
        return 0
    headers = [args.by, "requests", "tokens_in", "tokens_out", "cost_yen", "pii_findings"]
    print("\t".join(headers))
    for row in report:
        print("\t".join(str(row[h]) for h in headers))
    total = sum(r["cost_yen"] for r in report)
    print(f"合計\t{sum(r['requests'] for r in report)}\t{sum(r['tokens_in'] for r in report)}\t"
          f"{sum(r['tokens_out'] for r in report)}\t{round(total, 2)}\t{sum(r['pii_findings'] for r in report)}")
    print("（費用は価格表による概算です。価格は設定ファイルの [prices] で変えられます。）")
    return 0
