"""Meeting transcripts from Teams (.vtt, .docx) and plain text into speaker-attributed utterances.

    parse_transcript(data, name="会議.vtt") -> Transcript(utterances=[Utterance("田中", "…", "00:01:02", 5), …])

Formats (detected from the file name and the content):
  * WebVTT as exported by Teams: ``WEBVTT`` header, cues ``00:01:02.345 --> 00:01:05.000`` with
    ``<v 話者名>text</v>``; consecutive cues of one speaker are merged into one utterance.
  * Teams .docx transcript export: a paragraph ``話者名   0:01`` (or ``Speaker Name 0:00:05``) followed by
    the text paragraph(s); also paragraphs ``話者名: text``.
  * Plain text (pasted or .txt): ``話者: 発言`` / ``話者：発言`` / ``【話者】発言`` / ``○話者　発言`` (assembly
    minutes), optionally with a leading timestamp ``[00:01:02]``; lines without a speaker continue the
    previous utterance. Header lines before the first utterance give the title (会議名/件名), the date
    (日時: 2025年4月1日, 令和7年4月1日, 2025/4/1), the agenda (議題) and the participants (出席者).

Every utterance keeps its 1-based line number (paragraph number for .docx) and its start time when the
format has one, so that minutes can point back to what was said. Problems raise TranscriptError with a
message in Japanese for the user.
"""
from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

from hideki.japanese.eras import find_dates


class TranscriptError(ValueError):
    """The input is not a transcript we can read; the message is meant for the user (Japanese)."""


@dataclass
class Utterance:
    speaker: str
    text: str
    start: str = ""   # HH:MM:SS or ""
    line: int = 0     # 1-based line (paragraph for .docx) where the utterance starts


@dataclass
class Transcript:
    utterances: list[Utterance]
    title: str = ""
    date: str = ""        # ISO date or ""
    source: str = ""      # "vtt", "docx" or "text"
    agenda: list[str] = field(default_factory=list)         # from a 議題 header, when present
    participants: list[str] = field(default_factory=list)   # from a 出席者 header, when present

    @property
    def speakers(self) -> list[str]:
        """Distinct speakers in order of first appearance."""
        seen: dict[str, None] = {}
        for u in self.utterances:
            seen.setdefault(u.speaker, None)
        return list(seen)

    @property
    def text(self) -> str:
        return "\n".join(f"{u.speaker}: {u.text}" for u in self.utterances)


EXPECTED_FORMATS = (
    "期待する形式: 「話者: 発言」「話者：発言」「【話者】発言」「○話者　発言」の行、"
    "Teams の文字起こしファイル（.vtt / .docx）"
)
SUPPORTED_SUFFIXES = (".vtt", ".docx", ".txt", ".text", ".md", "")
MAX_SPEAKER_CHARS = 24

# ----------------------------------------------------------------------------------------- decoding


def decode(data: bytes) -> str:
    """Text of a .txt/.vtt file: UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern) or cp932."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) > len(sample) // 4:
        # UTF-16 without BOM: NULs mostly at odd (LE) or even (BE) positions for ASCII-heavy text
        odd = sample[1::2].count(0)
        even = sample[0::2].count(0)
        try:
            return data.decode("utf-16-le" if odd >= even else "utf-16-be")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(data) % 2 == 0:   # UTF-16 without BOM and with little ASCII: the decoding must look like Japanese
        for encoding in ("utf-16-le", "utf-16-be"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if "\n" in text and _plausible(text):
                return text
    for encoding in ("cp932", "euc-jp"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TranscriptError("文字コードを判別できません。UTF-8 または Shift_JIS（cp932）で保存し直してください。")


def _plausible(text: str) -> bool:
    """Mostly ASCII, kana, CJK ideographs and Japanese punctuation."""
    sample = text[:2000]
    good = sum(1 for ch in sample if ch < "\u0080" or "\u3000" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff"
               or "\uff00" <= ch <= "\uffef")
    return good >= 0.95 * len(sample)


# ----------------------------------------------------------------------------------------- headers

_HEADER_LABELS = {
    "title": ("会議名", "件名", "会議", "名称", "タイトル", "表題"),
    "date": ("日時", "開催日時", "開催日", "日付", "実施日", "実施日時", "年月日"),
    "agenda": ("議題", "議事", "次第", "案件"),
    "participants": ("出席者", "参加者", "出席", "参加", "メンバー"),
    "other": ("場所", "会場", "欠席者", "欠席", "記録", "記録者", "作成者", "書記", "時間", "開催場所",
              "配布資料", "資料", "備考", "目的", "オブザーバー"),
}
_LABEL_KIND = {label: kind for kind, labels in _HEADER_LABELS.items() for label in labels}
# Names that end like these are labels in running text (期限: 4月10日), not speakers.
_LABEL_ENDINGS = ("事項", "内容", "期限", "日時", "場所", "結果", "予定", "理由", "目的", "概要", "対象", "方法",
                  "ポイント", "注意", "メモ", "備考", "補足", "資料", "URL", "TEL", "電話", "メール", "時間", "金額",
                  "期間", "条件", "課題", "論点", "結論", "決定", "質問", "回答", "例", "注", "※", "参考")
_HEADER_RE = re.compile(r"^[\s　]*[■◆●□・\-*#]*[\s　]*(?P<label>[^\s:：　]{1,6})[\s　]*[:：][\s　]*(?P<value>.*)$")
_BRACKET_HEADER_RE = re.compile(r"^[\s　]*[【\[［](?P<label>[^】\]］]{1,6})[】\]］][\s　]*(?P<value>.*)$")
_TITLE_WORDS = re.compile(r"会議|打ち?合わ?せ|委員会|ミーティング|協議|検討会|定例|連絡会|研修|審議会|部会|説明会|朝礼|MTG|mtg")
_EN_MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"))}
_EN_DATE_RE = re.compile(r"\b(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2}), (?P<year>\d{4})")
_FILE_DATE_RE = re.compile(r"(?<!\d)(?P<year>20\d\d)[-_.]?(?P<month>[01]\d)[-_.]?(?P<day>[0-3]\d)(?!\d)")


def find_iso_date(text: str) -> str:
    """The first full date in `text` (era, Western, slash or English form) as ISO, or ""."""
    text = unicodedata.normalize("NFKC", text)
    for d in find_dates(text):
        if d.year and d.month and d.day and not d.fiscal:
            try:
                return dt.date(d.year, d.month, d.day).isoformat()
            except ValueError:
                continue
    m = _EN_DATE_RE.search(text)
    if m and m.group("month").lower()[:3] in {k[:3] for k in _EN_MONTHS}:
        month = next(v for k, v in _EN_MONTHS.items() if k[:3] == m.group("month").lower()[:3])
        try:
            return dt.date(int(m.group("year")), month, int(m.group("day"))).isoformat()
        except ValueError:
            return ""
    return ""


def _date_from_name(name: str) -> str:
    m = _FILE_DATE_RE.search(name)
    if not m:
        return ""
    try:
        return dt.date(int(m.group("year")), int(m.group("month")), int(m.group("day"))).isoformat()
    except ValueError:
        return ""


def _title_from_name(name: str) -> str:
    stem = PurePath(name).stem if name else ""
    stem = _FILE_DATE_RE.sub("", stem).strip(" _-.　")
    if not re.search(r"[^\x00-\x7f]", stem):   # 01_meeting_x: an ASCII file name is no meeting title
        return ""
    if not stem or re.fullmatch(r"(?i)(transcript|meeting|minutes|recording|文字起こし|トランスクリプト|untitled)"
                                r"[\s_\-\d]*", stem):
        return ""
    return stem.replace("_", " ")


@dataclass
class _Header:
    title: str = ""
    date: str = ""
    agenda: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)

    def take(self, line: str, allow_bare_title: bool) -> bool:
        """Consume a header line; True when it was one."""
        stripped = line.strip(" \t　")
        m = _HEADER_RE.match(stripped) or _BRACKET_HEADER_RE.match(stripped)
        if m and m.group("label") in _LABEL_KIND:
            kind, value = _LABEL_KIND[m.group("label")], m.group("value").strip()
            if kind == "title" and value and not self.title:
                self.title = value
            elif kind == "date" and not self.date:
                self.date = find_iso_date(value)
            elif kind == "agenda" and value:
                self.agenda.extend(v for v in re.split(r"[、,，/／]|\s{2,}|　", value) if v.strip())
            elif kind == "participants" and value:
                self.participants.extend(_split_names(value))
            return True
        if not self.date:
            date = find_iso_date(stripped)
            if date and len(stripped) <= 40:
                self.date = date
                return True
        if allow_bare_title and not self.title and len(stripped) <= 60 and _TITLE_WORDS.search(stripped):
            self.title = stripped.strip("#＃ 　【】[]")
            return True
        if re.match(r"^[\s　]*[0-9０-９]+[.．)）、]\s*\S", stripped) and (self.agenda or len(stripped) <= 40):
            # numbered agenda items under a 議題 header
            self.agenda.append(re.sub(r"^[\s　]*[0-9０-９]+[.．)）、]\s*", "", stripped))
            return True
        return False


def _split_names(value: str) -> list[str]:
    names = re.split(r"[、,，・/／]|\s{2,}|　", value)
    return [n.strip() for n in names if n.strip()]


# ----------------------------------------------------------------------------------------- text lines

_TIME_PREFIX = r"(?:[\[（(]?(?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?[\]）)]?[\s　]*)?"
_NAME = r"[^\s:：「」『』。、,，!?！？]{1,%d}(?:[ 　][^\s:：「」『』。、,，!?！？()（）\[\]]{1,12})?" % MAX_SPEAKER_CHARS
_COLON_RE = re.compile(r"^[\s　]*" + _TIME_PREFIX + r"(?P<name>" + _NAME + r")[\s　]*"
                       r"(?:[\[（(](?P<time2>\d{1,2}:\d{2}(?::\d{2})?)[\]）)][\s　]*)?[:：][\s　]*(?P<text>.*)$")
_BRACKET_RE = re.compile(r"^[\s　]*" + _TIME_PREFIX + r"【(?P<name>[^】]{1,%d})】[\s　]*(?P<text>.*)$" % MAX_SPEAKER_CHARS)
_MARU_RE = re.compile(r"^[\s　]*[○◯〇◎][\s　]*(?P<name>[^\s　]{1,%d}?)(?:[\s　]+|(?=[「]))(?P<text>\S.*)$"
                      % (MAX_SPEAKER_CHARS + 8))
_DOCX_NAME_TIME_RE = re.compile(
    r"^[\s　]*(?P<name>[^\t:：。、]{1,40}?)[\s　]+(?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?[\s　]*$")


def _normalise_time(value: str | None) -> str:
    if not value:
        return ""
    parts = [int(p) for p in value.split(":")]
    if len(parts) == 2:
        parts = [0] + parts
    h, m, s = parts
    return f"{h:02d}:{m:02d}:{s:02d}"


def _is_speaker_name(name: str) -> bool:
    name = name.strip()
    if not name or len(name) > MAX_SPEAKER_CHARS + 13:
        return False
    if name in _LABEL_KIND or name.endswith(_LABEL_ENDINGS) or name.rstrip("0123456789０-９") in _LABEL_KIND:
        return False
    if re.fullmatch(r"[\d０-９\s\-/.:]+", name):   # a time or a number
        return False
    if re.search(r"https?$|^https?|[。．!！?？]", name):
        return False
    if re.search(r"(です|ます|でした|ました|ください|ません)$", name):   # 「〜です：」 is prose
        return False
    if re.search(r"[0-9０-９]{4}\s*年|[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日|^(?:令和|平成|昭和)", name):   # a date line
        return False
    return True


def _match_speaker_line(line: str) -> tuple[str, str, str] | None:
    """(speaker, text, start) when `line` opens an utterance."""
    for pattern in (_BRACKET_RE, _MARU_RE, _COLON_RE):
        m = pattern.match(line)
        if not m:
            continue
        name = m.group("name").strip()
        if not _is_speaker_name(name):
            continue
        if pattern is _MARU_RE and len(name) > MAX_SPEAKER_CHARS + 8:
            continue
        groups = m.groupdict()
        start = _normalise_time(groups.get("time") or groups.get("time2"))
        return name, m.group("text").strip(), start
    return None


def _clean_speaker(name: str) -> str:
    name = unicodedata.normalize("NFKC", name).strip(" 　\t")
    return re.sub(r"\s+", " ", name)


def _join(a: str, b: str) -> str:
    """Join two pieces of one utterance: a space between Latin words, nothing between Japanese ones."""
    if not a:
        return b
    if not b:
        return a
    if re.search(r"[A-Za-z0-9,.]$", a) and re.match(r"[A-Za-z0-9]", b):
        return a + " " + b
    return a + b


def parse_lines(lines: list[str], source: str, first_line: int = 1, continuation_sep: str = "\n") -> Transcript:
    """Text lines (or .docx paragraphs) with ``話者: 発言`` style speakers into a Transcript."""
    header = _Header()
    utterances: list[Utterance] = []
    for offset, raw in enumerate(lines):
        number = first_line + offset
        line = raw.rstrip("\r\n")
        if not line.strip(" \t　"):
            continue
        hit = _match_speaker_line(line)
        if hit is None and not utterances and header.take(line, allow_bare_title=True):
            continue
        if hit is not None:
            speaker, text, start = hit
            utterances.append(Utterance(_clean_speaker(speaker), text, start, number))
            continue
        if utterances:
            prev = utterances[-1]
            piece = line.strip(" \t　")
            prev.text = piece if not prev.text else prev.text + continuation_sep + piece
    utterances = [u for u in utterances if u.text.strip()]
    return Transcript(utterances, header.title, header.date, source, header.agenda, header.participants)


# ----------------------------------------------------------------------------------------- WebVTT

_VTT_TIMING_RE = re.compile(r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d+)?)\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}"
                            r"(?:[.,]\d+)?)")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?\s+(?P<name>[^>]+)>(?P<text>.*?)(?:</v>|$)", re.S)
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>|<\d{1,2}:\d{2}[^>]*>")


def _vtt_time(value: str) -> str:
    value = value.replace(",", ".").split(".")[0]
    return _normalise_time(value)


def parse_vtt(text: str) -> Transcript:
    lines = text.splitlines()
    if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise TranscriptError("WebVTT ファイルの先頭に WEBVTT がありません。Teams からダウンロードした .vtt を送ってください。")
    utterances: list[Utterance] = []
    i = 1
    n = len(lines)
    while i < n:
        m = _VTT_TIMING_RE.match(lines[i])
        if not m:
            i += 1
            continue
        start = _vtt_time(m.group("start"))
        i += 1
        cue_lines: list[str] = []
        cue_line = i + 1
        while i < n and lines[i].strip():
            cue_lines.append(lines[i])
            i += 1
        body = "\n".join(cue_lines)
        voices = list(_VOICE_RE.finditer(body))
        pieces: list[tuple[str, str]] = []
        if voices:
            for v in voices:
                pieces.append((v.group("name"), v.group("text")))
        else:
            hit = _match_speaker_line(_TAG_RE.sub("", body).replace("\n", " "))
            if hit is not None:
                pieces.append((hit[0], hit[1]))
            else:
                pieces.append(("", body))
        for name, piece in pieces:
            speaker = _clean_speaker(name)
            piece = _TAG_RE.sub("", piece)
            piece = " ".join(p.strip() for p in piece.splitlines() if p.strip())
            piece = piece.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", " ")
            if not piece:
                continue
            if utterances and utterances[-1].speaker == speaker:
                utterances[-1].text = _join(utterances[-1].text, piece)
            else:
                utterances.append(Utterance(speaker, piece, start, cue_line))
    if utterances and all(not u.speaker for u in utterances):
        raise TranscriptError("話者が見つかりません。.vtt の字幕に話者名（<v 話者名>）が含まれていません。"
                              "Teams の「文字起こし」からダウンロードした .vtt を送ってください。")
    for u in utterances:
        if not u.speaker:
            u.speaker = "（不明）"
    return Transcript(utterances, source="vtt")


# ----------------------------------------------------------------------------------------- .docx


def _docx_paragraphs(data: bytes) -> list[str]:
    try:
        import docx  # python-docx
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise TranscriptError(".docx を読むための python-docx がインストールされていません。") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds
        raise TranscriptError(".docx ファイルを開けません。壊れているか、Word 形式ではありません。") from exc
    paragraphs: list[str] = []
    for p in document.paragraphs:
        # a paragraph may hold line breaks (Teams puts "name time" and the text in one paragraph at times)
        paragraphs.extend(p.text.split("\n") if p.text else [""])
    for table in document.tables:   # some exports put the transcript in a table: speaker | time | text
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if len(cells) >= 2 and cells[0] and cells[-1]:
                paragraphs.append(f"{cells[0]}: {cells[-1]}")
    return paragraphs


def parse_docx(data: bytes) -> Transcript:
    paragraphs = _docx_paragraphs(data)
    if not any(p.strip() for p in paragraphs):
        raise TranscriptError(".docx に文字がありません。文字起こしのファイルか確認してください。")
    header = _Header()
    utterances: list[Utterance] = []
    pending: Utterance | None = None
    name_time_lines = 0
    for index, paragraph in enumerate(paragraphs, start=1):
        line = paragraph.strip(" \t　\u200b")
        if not line:
            continue
        m = _DOCX_NAME_TIME_RE.match(line)
        if m and _is_speaker_name(m.group("name")):
            name_time_lines += 1
            pending = Utterance(_clean_speaker(m.group("name")), "", _normalise_time(m.group("time")), index)
            utterances.append(pending)
            continue
        if _VTT_TIMING_RE.match(line):   # some exports keep "0:0:3.6 --> 0:0:8.2" lines
            continue
        if pending is not None:
            pending.text = _join(pending.text, line) if pending.text else line
            pending.line = pending.line or index
            continue
        if not utterances:
            header.take(line, allow_bare_title=True)
    utterances = [u for u in utterances if u.text.strip()]
    if name_time_lines and utterances:
        merged: list[Utterance] = []
        for u in utterances:
            if merged and merged[-1].speaker == u.speaker:
                merged[-1].text = _join(merged[-1].text, u.text)
            else:
                merged.append(u)
        return Transcript(merged, header.title, header.date, "docx", header.agenda, header.participants)
    transcript = parse_lines(paragraphs, "docx", continuation_sep="")
    if not transcript.utterances or len(transcript.speakers) < 1:
        raise TranscriptError(".docx に話者付きの発言が見つかりません（会議の文字起こしではないようです）。"
                              "Teams の文字起こしを「.docx としてダウンロード」したファイルを送ってください。"
                              + EXPECTED_FORMATS)
    return transcript


# ----------------------------------------------------------------------------------------- entry point


def parse_transcript(data: bytes | str, name: str = "") -> Transcript:
    """Parse a transcript file (bytes, with its file name) or pasted text (str)."""
    suffix = PurePath(name).suffix.lower() if name else ""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data)
        if suffix not in SUPPORTED_SUFFIXES:
            raise TranscriptError(f"{suffix} 形式には対応していません。.vtt・.docx・.txt の文字起こし、"
                                  "またはテキストの貼り付けで送ってください。")
        is_zip = data[:4] == b"PK\x03\x04"
        if suffix == ".docx" or (is_zip and not suffix):
            if not is_zip or not _is_docx(data):
                raise TranscriptError(".docx ファイルとして読めません。壊れているか、Word 形式ではありません。")
            transcript = parse_docx(data)
        else:
            if is_zip:
                raise TranscriptError("圧縮ファイル（.zip など）には対応していません。.vtt・.docx・.txt を送ってください。")
            text = decode(data)
            transcript = _parse_text(text, suffix)
    else:
        transcript = _parse_text(str(data), suffix)
    if not transcript.date and name:
        transcript.date = _date_from_name(name)
    if not transcript.title and name:
        transcript.title = _title_from_name(name)
    return transcript


TRANSCRIPT_MIN_SHARE = 0.3  # of the non-empty lines (paragraphs) that open an utterance


def is_transcript(data: bytes, name: str = "") -> bool:
    """Whether a file reads as a meeting transcript: a WebVTT file, or a text / Word file in which lines
    open an utterance (「話者: 発言」, a Teams 「名前 0:01」 line …) — at least 30 % of the non-empty
    ones, with some speaker speaking twice. A notice with 「問い合わせ先: 市民課」 and 「持ち物: 印鑑」 lines is not
    one. Never raises."""
    try:
        if PurePath(name).suffix.lower() == ".vtt":
            return True
        if data[:4] == b"PK\x03\x04":
            if not _is_docx(data):
                return False
            lines = [p.strip(" \t　\u200b") for p in _docx_paragraphs(data)]
        else:
            text = decode(data).lstrip("\ufeff")
            if text.lstrip().startswith("WEBVTT"):
                return True
            lines = [line.strip() for line in text.splitlines()]
    except (TranscriptError, ValueError, KeyError, OSError, zipfile.BadZipFile):
        return False
    lines = [line for line in lines if line]
    speakers: list[str] = []
    for line in lines:
        if (m := _DOCX_NAME_TIME_RE.match(line)) is not None and _is_speaker_name(m.group("name")):
            speakers.append(_clean_speaker(m.group("name")))
        elif (match := _match_speaker_line(line)) is not None:
            speakers.append(_clean_speaker(match[0]))
    repeated = len(set(speakers)) < len(speakers)  # someone speaks twice: labels of a notice seldom repeat
    return repeated and len(speakers) >= TRANSCRIPT_MIN_SHARE * len(lines)


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _parse_text(text: str, suffix: str) -> Transcript:
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise TranscriptError("テキストとして読めない文字が含まれています。文字起こしのテキストファイルか確認してください。")
    stripped = text.strip()
    if not stripped:
        raise TranscriptError("文字起こしが空です。会議の発言を貼り付けるか、ファイルを送ってください。")
    if stripped.startswith("WEBVTT"):
        transcript = parse_vtt(stripped)
    else:
        if suffix == ".vtt":
            raise TranscriptError("WebVTT ファイルの先頭に WEBVTT がありません。Teams からダウンロードした .vtt を送ってください。")
        lines = text.splitlines()
        if sum(1 for line in lines if line.strip()) < 2:
            raise TranscriptError("1行しかありません。会議の文字起こし全体を、発言ごとに改行して送ってください。"
                                  + EXPECTED_FORMATS)
        transcript = parse_lines(lines, "text")
    if not transcript.utterances:
        raise TranscriptError("話者が見つかりません。発言ごとに話者名を付けてください。" + EXPECTED_FORMATS)
    return transcript
