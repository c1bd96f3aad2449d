"""Word ruby and the やさしい日本語 rewrite of a 20-page notice, offline: seconds on one core and peak memory.

    .venv/bin/python benchmarks/documents.py [--pages 20] [--repeat 3] [--cpu 0] [--keep FILE] [--json FILE]

The notice is generated deterministically (no evaluation data): about 1,000 characters of municipal-notice
Japanese per page, with headings, bulleted and numbered lists, formatted runs (bold, colour) and a fee table.
Measured, with the reading engine loaded and warmed up as in the running bot ("idle"):
  * ruby_docx_first_s: `hideki furigana notice.docx -o out.docx` as a function (open, ruby, save), first run
    on this text (the engine's word caches are cold for it); ruby_docx_median_s: the median of the next runs;
  * peak_rss_above_idle_mb: the highest resident set size during the runs, sampled every 2 ms, minus idle;
  * rewrite_docx_first_s / _median_s: `hideki run yasashii notice.docx -o out.docx` offline as a function
    (hideki.documents.rewrite.rewrite_docx: open, rewrite every paragraph with the simplifier, ruby, save), with
    the simplifier loaded at idle as in the bot; rewrite_peak_rss_above_idle_mb: their peak above the same idle (before any run).
Targets (issue 16): ruby ≤ 3 s, rewrite ≤ 10 s, ≤ 300 MB. Printed as a table; --json writes one flat JSON object.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402
from docx.shared import RGBColor  # noqa: E402

from hideki.documents.furigana_file import add_readings_to_file  # noqa: E402
from hideki.documents.rewrite import rewrite_docx  # noqa: E402
from hideki.japanese.readings import ReadingEngine  # noqa: E402
from hideki.japanese.simplify import Simplifier  # noqa: E402

TARGET_SECONDS = 3.0
TARGET_REWRITE_SECONDS = 10.0
TARGET_MB = 300.0
CHARS_PER_PAGE = 1000

_TOPICS = ["住民票の写しの交付", "児童手当の申請", "粗大ごみの収集", "国民健康保険の手続き", "防災訓練の実施",
           "予防接種の受付", "市営住宅の入居者募集", "固定資産税の納付", "道路工事に伴う通行止め", "図書館の臨時休館"]
_PLACES = ["市役所本庁舎1階の市民課窓口", "各地区の出張所", "子育て支援課", "環境衛生センター", "保健福祉会館2階の会議室"]
_SENTENCES = [
    "{topic}について、{month}月{day}日から受付を開始します。",
    "申請書は{place}で配布しているほか、市のホームページからも印刷できます。",
    "手続きには、本人確認書類（運転免許証、マイナンバーカードなど）と印鑑が必要です。",
    "代理人が申請する場合は、委任状と代理人の本人確認書類をお持ちください。",
    "受付時間は、平日の午前8時30分から午後5時15分までです。土曜日、日曜日、祝日は受け付けていません。",
    "郵送で申請する場合は、必要事項を記入した申請書に返信用封筒を同封し、{place}あてに送付してください。",
    "手数料は1件につき{fee}円です。生活保護を受けている世帯は、手数料が免除されます。",
    "締め切りを過ぎた申請は受け付けられませんので、早めに手続きを済ませてください。",
    "詳しくは、{place}（電話 03-1234-{phone}）までお問い合わせください。",
    "災害時の避難場所は、最寄りの小学校の体育館です。日頃から家族で確認しておきましょう。",
    "高齢者や障害のある方で、窓口へ来ることが難しい場合は、職員が自宅を訪問して手続きを行います。",
    "個人情報は、この事業の目的以外には使用しません。",
]
_ITEMS = ["申請書（窓口で配布）", "本人確認書類", "健康保険証", "印鑑（認印で可）", "預金通帳の写し", "委任状（代理人の場合）"]


def notice_document(pages: int, seed: int = 16) -> tuple[docx.document.Document, int]:
    """A notice of about `pages` × 1,000 characters; returns it and its character count."""
    rng = random.Random(seed)
    d = docx.Document()
    chars = 0
    section = 0
    while chars < pages * CHARS_PER_PAGE:
        section += 1
        topic = _TOPICS[section % len(_TOPICS)]
        chars += len(d.add_heading(f"{section}．{topic}のお知らせ", level=1).text)
        for part in range(3):
            chars += len(d.add_heading(("概要", "手続きの方法", "注意事項")[part], level=2).text)
            for _ in range(2):
                p = d.add_paragraph()
                for _ in range(4):
                    sentence = rng.choice(_SENTENCES).format(
                        topic=topic, month=rng.randint(1, 12), day=rng.randint(1, 28), place=rng.choice(_PLACES),
                        fee=rng.choice((200, 300, 400, 1000)), phone=rng.randint(1000, 9999))
                    run = p.add_run(sentence)
                    if rng.random() < 0.15:
                        run.bold = True
                        run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
                    chars += len(sentence)
            for item in rng.sample(_ITEMS, 3):
                chars += len(d.add_paragraph(item, style="List Bullet" if part != 1 else "List Number").text)
        table = d.add_table(rows=4, cols=3)
        table.style = "Table Grid"
        for row, cells in zip(table.rows, [("区分", "手数料", "受付窓口"), ("住民票の写し", "300円", "市民課"),
                                           ("印鑑登録証明書", "300円", "市民課"), ("戸籍謄本", "450円", "戸籍住民課")]):
            for cell, text in zip(row.cells, cells):
                cell.text = text
                chars += len(text)
    return d, chars


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Samples the resident set size every 2 ms in a thread while the block runs."""

    def __enter__(self) -> "PeakRss":
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs after the first (median reported)")
    parser.add_argument("--cpu", type=int, default=0, help="pin to this CPU (-1: no pinning)")
    parser.add_argument("--keep", type=Path, default=None, help="also save the notice with ruby here")
    parser.add_argument("--json", type=Path, default=None, help="write all figures as one flat JSON object")
    args = parser.parse_args()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})

    engine = ReadingEngine()
    engine.tokens("市役所の窓口で住民票の写しを申請します。")  # the bot's engine is loaded and warm at idle
    simplifier = Simplifier()
    simplifier.simplify("申請書を提出してください。")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "notice.docx"
        document, chars = notice_document(args.pages)
        document.save(source)
        del document
        gc.collect()
        idle = rss_mb()
        times: list[float] = []
        with PeakRss() as peak:
            for i in range(1 + args.repeat):
                start = time.perf_counter()
                report = add_readings_to_file(source, Path(folder) / f"out{i}.docx", engine)
                times.append(time.perf_counter() - start)
        if args.keep:
            args.keep.write_bytes((Path(folder) / "out0.docx").read_bytes())
        gc.collect()
        rewrite_times: list[float] = []
        with PeakRss() as rewrite_peak:
            for i in range(1 + args.repeat):
                start = time.perf_counter()
                rewrite = rewrite_docx(source, Path(folder) / f"easy{i}.docx", simplifier, engine)
                rewrite_times.append(time.perf_counter() - start)

    figures = {
        "pages": args.pages,
        "characters": chars,
        "ruby_words": report.words,
        "ruby_docx_first_s": round(times[0], 3),
        "ruby_docx_median_s": round(statistics.median(times[1:]), 3) if args.repeat else round(times[0], 3),
        "idle_rss_mb": round(idle, 1),
        "peak_rss_above_idle_mb": round(peak.peak - idle, 1),
        "rewrite_paragraphs": rewrite.paragraphs,
        "rewrite_rewritten": rewrite.rewritten,
        "rewrite_docx_first_s": round(rewrite_times[0], 3),
        "rewrite_docx_median_s": round(statistics.median(rewrite_times[1:]), 3) if args.repeat else round(rewrite_times[0], 3),
        "rewrite_peak_rss_above_idle_mb": round(rewrite_peak.peak - idle, 1),
        "cpu": args.cpu,
    }
    rows = [
        ("notice", f"{args.pages} pages, {chars:,} characters, {report.words:,} ruby", ""),
        ("ruby on .docx, first run", f"{figures['ruby_docx_first_s']:.2f} s", f"≤ {TARGET_SECONDS:.0f} s"),
        (f"ruby on .docx, median of {args.repeat}", f"{figures['ruby_docx_median_s']:.2f} s", f"≤ {TARGET_SECONDS:.0f} s"),
        ("peak memory above idle", f"{figures['peak_rss_above_idle_mb']:.0f} MB (idle {idle:.0f} MB)", f"≤ {TARGET_MB:.0f} MB"),
        ("plain-Japanese rewrite", f"{rewrite.rewritten:,} of {rewrite.paragraphs:,} paragraphs rewritten", ""),
        ("rewrite .docx, first run", f"{figures['rewrite_docx_first_s']:.2f} s", f"≤ {TARGET_REWRITE_SECONDS:.0f} s"),
        (f"rewrite .docx, median of {args.repeat}", f"{figures['rewrite_docx_median_s']:.2f} s", f"≤ {TARGET_REWRITE_SECONDS:.0f} s"),
        ("rewrite peak memory above idle", f"{figures['rewrite_peak_rss_above_idle_mb']:.0f} MB (idle {idle:.0f} MB)",
         f"≤ {TARGET_MB:.0f} MB"),
    ]
    print(f"| {'measure':<30} | {'value':<44} | target   |")
    print(f"|{'-' * 32}|{'-' * 46}|----------|")
    for name, value, target in rows:
        print(f"| {name:<30} | {value:<44} | {target:<8} |")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
