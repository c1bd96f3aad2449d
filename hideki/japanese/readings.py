"""Local readings (furigana) engine: Sudachi + context rules + user dictionaries.

`tokens(text)` returns (surface, hiragana reading) pairs whose surfaces concatenate back to
`text` exactly. Kanji-less tokens read as themselves (katakana folded to hiragana); numbers
get their spoken reading. Sudachi's short units (mode A) measured best on KWDLC, and keep
counters and suffixes apart for the context rules:
  numbers + counters with sound changes (1本 いっぽん, 3分 さんぷん, 4月 しがつ, 20日 はつか,
  1日 ついたち after a month, 3つ みっつ, 三つ星 みつ, 一月半 ひとつき), 何 なに/なん,
  方 かた/ほう (people vs side/comparison), 人 じん/にん, 行っている おこなって, 生 なま as a
  prefix, この度 たび, この間 あいだ, 依頼主 ぬし, 絵を描く かく, rendaku after nouns (文字通り,
  定休日, 通常通り, 普段使い), weekday abbreviations (（月）, 月・水・金), old provinces (越後国
  えちごのくに), 何十回/数十本, set phrases (いつの間に, 意を表し, を得る, 交通の便), 縁 ふち, 下 した
  below page parts, and a few dictionary conventions (日本 にほん, 言う いう). User dictionaries (TSV) override everything, on word
  boundaries. Kanji Sudachi cannot read at all fall back to pykakasi, loaded on first need
  (Sudachi mode B/C and pykakasi were measured per token class and lose everywhere else).

Speed: a dictionary word's reading, POS id and "worth a rule" flag depend only on its Sudachi
word id, so each morpheme costs two Sudachi calls and one dict lookup; the rule pass visits
only the flagged tokens (numerals and trigger words).
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from hideki.japanese.kana import KANJI_RE, has_kanji, is_all_kana, to_hiragana
from hideki.japanese.numbers import parse_quantity
from hideki.japanese.sudachi import MODES, dictionary, tokenizer

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_USER_DICTIONARY = DATA_DIR / "user_readings.tsv"

MODE = "A"  # A 97.9 % / B 97.8 % / C 97.7 % relaxed KWDLC accuracy with the same rules
# SudachiPy refuses inputs over ~49 KB; chunks are cut well below that.
MAX_CHUNK = 4000
_CUT_AFTER = "。！？!?\n"

Token = tuple[str, str]


@dataclass(frozen=True)
class UserEntry:
    surface: str
    reading: str
    source: str


def load_user_dictionary(path: Path) -> dict[str, UserEntry]:
    """Parse one TSV dictionary: header line, `#` comments, surface<TAB>reading[<TAB>note]."""
    entries: dict[str, UserEntry] = {}
    text = Path(path).read_text(encoding="utf-8")
    header_seen = False
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            if line.split("\t")[0].strip().lower() == "surface":
                continue
        cols = line.split("\t")
        if len(cols) not in (2, 3):
            raise ValueError(f"{path}:{line_no}: expected surface<TAB>reading[<TAB>note], got {len(cols)} columns")
        surface, reading = cols[0].strip(), to_hiragana(cols[1].strip())
        if not surface or not reading:
            raise ValueError(f"{path}:{line_no}: empty surface or reading")
        if not is_all_kana(reading):
            raise ValueError(f"{path}:{line_no}: reading {reading!r} is not kana")
        if any(ch in surface for ch in "\n\r "):
            raise ValueError(f"{path}:{line_no}: surface contains whitespace")
        entries[surface] = UserEntry(surface, reading, f"{path}:{line_no}")
    return entries


class ReadingEngine:
    """Tokenizes text into (surface, reading) pairs; user entries override Sudachi."""

    def __init__(self, user_dictionaries: Sequence[Path] = ()) -> None:
        self.user: dict[str, str] = {}
        paths = [DEFAULT_USER_DICTIONARY, *user_dictionaries]
        for path in paths:
            for surface, entry in load_user_dictionary(Path(path)).items():
                self.user[surface] = entry.reading
        self._user_re = _alternation(self.user)

    def tokens(self, text: str) -> list[Token]:
        if len(text) <= MAX_CHUNK:
            return self._chunk_tokens(text) if text else []
        out: list[Token] = []
        for chunk in _chunks(text):
            out.extend(self._chunk_tokens(chunk))
        return out

    def guessed(self, text: str) -> list[Token]:
        """Words whose reading is a guess, as the (surface, reading) of `tokens`, each once, in order: person names
        (Sudachi's 人名) and words unknown to its dictionary, unless a user dictionary gives them.

        On KWDLC's held-out part 18 % of these readings are wrong, against 1.6 % of the other kanji words
        (benchmarks/furigana.py, kwdlc_guessed_*): the readings worth a human look.
        """
        spans: list[tuple[int, int]] = []
        offset = 0
        tok, out = _thread_tokenizer()
        for chunk in _chunks(text):
            for m in tok.tokenize(chunk, out=out):
                if _KANJI_RE.search(m.surface()) and (m.part_of_speech()[2] == "人名" or m.is_oov()):
                    spans.append((offset + m.begin(), offset + m.end()))
            offset += len(chunk)
        found: list[Token] = []
        pos = k = 0
        for surface, reading in self.tokens(text) if spans else ():
            end = pos + len(surface)
            while k < len(spans) and spans[k][1] <= pos:
                k += 1
            if k < len(spans) and spans[k][0] < end and surface not in self.user and (surface, reading) not in found:
                found.append((surface, reading))
            pos = end
        return found

    def _chunk_tokens(self, chunk: str) -> list[Token]:
        if "・" in chunk:
            toks, hits = self._split_at_dots(chunk)
        else:
            toks, hits = self._sudachi_tokens(chunk)
        if hits:
            apply_context_rules(toks, hits)
        if self._user_re is not None:
            self._apply_user_entries(chunk, toks)
        return [(s, r) for s, r, _ in toks]

    def _split_at_dots(self, chunk: str) -> tuple[list[list], list[int]]:
        """Tokenize around each ・ separately: Sudachi has entries like 日・祝 that swallow it (日曜日・祝日)."""
        toks: list[list] = []
        hits: list[int] = []
        for piece in _DOT_SPLIT.split(chunk):
            if piece:
                part, part_hits = self._sudachi_tokens(piece)
                hits.extend(h + len(toks) for h in part_hits)
                toks.extend(part)
        return toks, hits

    def _apply_user_entries(self, chunk: str, toks: list[list]) -> None:
        """Replace token runs that spell a user entry (longest match, on token boundaries)."""
        matches = list(self._user_re.finditer(chunk))
        if not matches:
            return
        starts: dict[int, int] = {}
        pos = 0
        for i, tok in enumerate(toks):
            starts[pos] = i
            pos += len(tok[0])
        starts[pos] = len(toks)
        replaced = 0
        for m in matches:
            i, j = starts.get(m.start()), starts.get(m.end())
            if i is None or j is None:
                continue  # the entry would cut through a word (実施工程 ≠ 施工)
            i -= replaced
            j -= replaced
            toks[i:j] = [[m.group(), self.user[m.group()], -1]]
            replaced += j - i - 1

    def _sudachi_tokens(self, text: str) -> tuple[list[list], list[int]]:
        """Sudachi morphemes as [surface, reading, pos id], and the indices the context rules look at.

        Per-morpheme work is kept to two Sudachi calls (surface, word id) and one dict lookup:
        a dictionary word's reading, POS id and trigger flag depend only on its word id, so they
        are computed once per word. Ids from _OOV_ID up are shared by unknown words and by
        words Sudachi builds on the fly (一 reads ひと in 一つ, いち elsewhere, with one id): those
        are cached by surface and reading.
        """
        words = _WORD_CACHE
        if len(words) > _CACHE_LIMIT:
            words.clear()
        get, plain = words.get, _PLAIN_CACHE.get
        hits: list[int] = []
        hit_append = hits.append
        toks: list[list] = []
        append = toks.append
        tok, out = _thread_tokenizer()
        for m in tok.tokenize(text, out=out):
            surface = m.surface()
            info = get(m.word_id())  # ids from _OOV_ID up are never keys: they miss and go to _lookup
            if info is None:
                info = _lookup(m, surface, m.word_id())
            reading, pid, hit = info
            if reading is None:  # kana / symbols: read as written (the surface may be half-width)
                reading = plain(surface) or _plain_cached(surface)
            if hit:
                hit_append(len(toks))
            append([surface, reading, pid])
        return toks, hits


def _lookup(m, surface: str, wid: int) -> tuple[str | None, int, bool]:
    key = wid if wid < _OOV_ID else (surface, m.reading_form())
    info = _WORD_CACHE.get(key)
    if info is None:
        info = _WORD_CACHE[key] = _word_info(m, surface)
    return info


def _plain_cached(surface: str) -> str:
    if len(_PLAIN_CACHE) > _CACHE_LIMIT:
        _PLAIN_CACHE.clear()
    reading = _PLAIN_CACHE[surface] = _plain_reading(surface)
    return reading


def _word_info(m, surface: str) -> tuple[str | None, int, bool]:
    """(reading or None for kanji-less words, POS id, worth a context-rule look) for one morpheme."""
    pid = m.part_of_speech_id()
    if _KANJI_RE.search(surface):
        reading = _base_reading(surface, m.reading_form())
    else:
        # a hiragana word is spelled the same wherever it occurs (no width variants): read as is
        reading = surface if _HIRAGANA_WORD.fullmatch(surface) else None
    return reading, pid, surface in _TRIGGERS or pid in _numeral_pos_ids()


_DOT_SPLIT = re.compile("(・)")
_local = threading.local()


def _thread_tokenizer():
    """A Sudachi tokenizer (and reusable result list) for this thread: tokenizers are not thread-safe.

    The main thread uses the shared one from hideki.japanese.sudachi; other threads get their own
    on the same shared dictionary.
    """
    pair = getattr(_local, "pair", None)
    if pair is None:
        if threading.current_thread() is threading.main_thread():
            tok = tokenizer(MODE)
        else:
            tok = dictionary().tokenizer(MODES[MODE])
        pair = _local.pair = (tok, tok.tokenize(""))
    return pair


_CACHE_LIMIT = 300_000
_OOV_ID = 0xF0000000  # ids from here up name no dictionary word (unknown words, on-the-fly words)
_PLAIN_CACHE: dict[str, str] = {}  # kanji-less surfaces → their own reading
_WORD_CACHE: dict = {}  # word id (or (surface, reading form)) → (reading, POS id, trigger)
_KANJI_RE = KANJI_RE


_HALFWIDTH_KANA = re.compile("[\uff65-\uff9f]")
_HIRAGANA_WORD = re.compile("[\u3041-\u3096ー]+")


def _plain_reading(surface: str) -> str:
    """A kanji-less token reads as itself, kana in hiragana (half-width ｶﾅ widened first)."""
    if _HALFWIDTH_KANA.search(surface):
        surface = unicodedata.normalize("NFKC", surface)
    return to_hiragana(surface)


def _base_reading(surface: str, reading_form: str) -> str:
    """Reading of one Sudachi morpheme, with dictionary-convention fixes."""
    if _KANJI_RE.search(surface) is None:
        return _plain_reading(surface)
    reading = to_hiragana(reading_form)
    if not is_all_kana(reading):
        return _fallback_reading(surface)
    if "日本" in surface and "にっぽん" in reading:
        reading = reading.replace("にっぽん", "にほん")  # the common modern reading
    if surface[0] == "言" and reading[0] == "ゆ":
        reading = "い" + reading[1:]  # 言う: spelled いう (Sudachi gives the spoken ゆう)
    return reading


def _alternation(surfaces: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any surface, longest first, built as a trie so large dictionaries stay fast."""
    trie: dict = {}
    for word in surfaces:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True
    if not trie:
        return None
    return re.compile(_trie_pattern(trie))


def _trie_pattern(node: dict) -> str:
    branches = [re.escape(ch) + _trie_pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _chunks(text: str) -> Iterable[str]:
    """Cut text into Sudachi-sized pieces at line/sentence ends (never inside a line if avoidable)."""
    start = 0
    n = len(text)
    while start < n:
        end = min(n, start + MAX_CHUNK)
        if end < n:
            cut = max(text.rfind(c, start, end) for c in _CUT_AFTER)
            if cut > start:
                end = cut + 1
        yield text[start:end]
        start = end


def _fallback_reading(surface: str) -> str:
    """Reading for a word Sudachi does not know: per-character dictionary lookups."""
    tok = _thread_tokenizer()[0]
    parts: list[str] = []
    for ch in surface:
        if ch == "々" and parts:
            parts.append(parts[-1])  # 禰々 ねね: the iteration mark repeats the previous reading
        elif has_kanji(ch):
            ms = tok.tokenize(ch)
            r = to_hiragana(ms[0].reading_form()) if len(ms) == 1 and not ms[0].is_oov() else ""
            parts.append(r if is_all_kana(r) else _kanji_reading(ch))
        else:
            parts.append(to_hiragana(ch))
    return "".join(parts)


@lru_cache(maxsize=4096)
def _kanji_reading(ch: str) -> str:
    """A kanji Sudachi has no reading for (喘, 餐, 嵒): pykakasi's reading, else the kanji itself.

    pykakasi (loaded on first use, ~0.7 s) is only asked about these rare characters: on whole
    words it measured worse than Sudachi for every token class on KWDLC.
    """
    kks = _kakasi()
    if kks is None:
        return ch
    r = "".join(item["hira"] for item in kks.convert(ch))
    return r if r and is_all_kana(r) else ch


@lru_cache(maxsize=1)
def _kakasi():
    try:
        import pykakasi
    except ImportError:  # optional: without it unknown kanji keep their surface
        return None
    return pykakasi.kakasi()


# ---------------------------------------------------------------- numbers

_UNITS = ["", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう"]
_HUNDREDS = {1: "ひゃく", 3: "さんびゃく", 6: "ろっぴゃく", 8: "はっぴゃく"}
_THOUSANDS = {1: "せん", 3: "さんぜん", 8: "はっせん"}
_LARGE_READ = [(10**12, "ちょう"), (10**8, "おく"), (10**4, "まん")]


def _read_under_10000(n: int) -> str:
    th, h, te, u = n // 1000, n // 100 % 10, n // 10 % 10, n % 10
    out = ""
    if th:
        out += _THOUSANDS.get(th, _UNITS[th] + "せん")
    if h:
        out += _HUNDREDS.get(h, _UNITS[h] + "ひゃく")
    if te:
        out += ("" if te == 1 else _UNITS[te]) + "じゅう"
    return out + _UNITS[u]


def number_reading(n: int) -> str:
    """Spoken reading of a non-negative integer: 2010 → にせんじゅう."""
    if n == 0:
        return "ぜろ"
    out = ""
    for unit, name in _LARGE_READ:
        if n >= unit:
            head = n // unit
            reading = _read_under_10000(head) if head < 10000 else number_reading(head)
            if 1000 <= head < 2000:
                reading = "いっ" + reading  # 1000万: いっせんまん
            if name == "ちょう":
                reading = _geminate(reading, k_row=True)
            out += reading + name
            n %= unit
    return out + (_read_under_10000(n) if n else "")


def _geminate(reading: str, k_row: bool) -> str:
    """いち→いっ, はち→はっ, じゅう→じゅっ, ひゃく→ひゃっ, and ろく→ろっ before k/h rows."""
    for tail, short in (("いち", "いっ"), ("はち", "はっ"), ("じゅう", "じゅっ"), ("ひゃく", "ひゃっ")):
        if reading.endswith(tail):
            return reading[: -len(tail)] + short
    if k_row and reading.endswith("ろく"):
        return reading[:-2] + "ろっ"
    return reading


_VOICED = str.maketrans("かきくけこさしすせそたちつてとはひふへほ", "がぎぐげござじずぜぞだぢづでどばびぶべぼ")
_HALF_VOICED = str.maketrans("はひふへほ", "ぱぴぷぺぽ")

# counter → (reading, class). Classes: k / s / t geminate the number (いっかい);
# hb: 本-type (いっぽん さんぼん); hp: 分-type (いっぷん さんぷん よんぷん);
# plain: no sound change. 4/7/9 forms are in _FOUR_SEVEN_NINE.
COUNTERS: dict[str, tuple[str, str]] = {
    **{c: ("かい", "k") for c in ("回", "階")},
    "個": ("こ", "k"), "ヶ所": ("かしょ", "k"), "か所": ("かしょ", "k"), "カ所": ("かしょ", "k"),
    "箇所": ("かしょ", "k"), "ヵ所": ("かしょ", "k"), "ヶ月": ("かげつ", "k"), "か月": ("かげつ", "k"),
    "カ月": ("かげつ", "k"), "ヵ月": ("かげつ", "k"), "箇月": ("かげつ", "k"), "ヶ国": ("かこく", "k"),
    "か国": ("かこく", "k"), "カ国": ("かこく", "k"), "件": ("けん", "k"), "軒": ("けん", "k"),
    "曲": ("きょく", "k"), "局": ("きょく", "k"), "課": ("か", "k"), "巻": ("かん", "k"), "校": ("こう", "k"),
    "期": ("き", "k"), "機": ("き", "k"), "戸": ("こ", "k"), "区": ("く", "k"), "句": ("く", "k"),
    "学期": ("がっき", "plain"),
    "冊": ("さつ", "s"), "歳": ("さい", "s"), "才": ("さい", "s"), "週": ("しゅう", "s"), "週間": ("しゅうかん", "s"),
    "周": ("しゅう", "s"), "社": ("しゃ", "s"), "種": ("しゅ", "s"), "種類": ("しゅるい", "s"), "席": ("せき", "s"),
    "隻": ("せき", "s"), "章": ("しょう", "s"), "勝": ("しょう", "s"), "試合": ("しあい", "s"),
    "足": ("そく", "s"), "室": ("しつ", "s"), "色": ("しょく", "s"), "食": ("しょく", "s"), "升": ("しょう", "s"),
    "棟": ("とう", "t"), "点": ("てん", "t"), "通": ("つう", "t"), "頭": ("とう", "t"), "着": ("ちゃく", "t"), "丁": ("ちょう", "t"),
    "丁目": ("ちょうめ", "t"), "等": ("とう", "t"), "トン": ("とん", "t"), "チーム": ("ちーむ", "t"),
    "本": ("ほん", "hb"), "杯": ("はい", "hb"), "匹": ("ひき", "hb"),
    "分": ("ふん", "hp"), "分間": ("ふんかん", "hp"), "泊": ("はく", "hp"), "発": ("はつ", "hp"),
    "歩": ("ほ", "hp"), "敗": ("はい", "hp"), "票": ("ひょう", "hp"), "編": ("へん", "hp"),
    "遍": ("へん", "hp"), "版": ("はん", "hp"), "拍": ("はく", "hp"), "班": ("はん", "hp"),
    "年": ("ねん", "plain"), "年間": ("ねんかん", "plain"), "年度": ("ねんど", "plain"), "月": ("がつ", "plain"),
    "時": ("じ", "plain"), "時間": ("じかん", "plain"), "人": ("にん", "plain"), "名": ("めい", "plain"),
    "円": ("えん", "plain"), "秒": ("びょう", "plain"), "枚": ("まい", "plain"), "番": ("ばん", "plain"),
    "倍": ("ばい", "plain"), "度": ("ど", "plain"), "位": ("い", "plain"), "割": ("わり", "plain"),
    "号": ("ごう", "plain"), "条": ("じょう", "plain"), "台": ("だい", "plain"), "代": ("だい", "plain"),
    "部": ("ぶ", "plain"), "問": ("もん", "plain"), "万": ("まん", "plain"), "億": ("おく", "plain"),
    "日": ("にち", "day"), "日間": ("にちかん", "day"), "日目": ("にちめ", "day"),
    "畳": ("じょう", "plain"), "字": ("じ", "plain"), "つ": ("つ", "tsu"), "話": ("わ", "plain"),
    "基": ("き", "k"), "脚": ("きゃく", "k"), "作": ("さく", "s"),
    "戦": ("せん", "s"), "世紀": ("せいき", "s"), "周年": ("しゅうねん", "s"), "世帯": ("せたい", "s"),
    "店": ("てん", "t"),
    "晩": ("ばん", "native"), "部屋": ("へや", "native"), "言": ("こと", "native"), "通り": ("とおり", "native"),
    "キロ": ("きろ", "k"), "キロメートル": ("きろめーとる", "k"), "キログラム": ("きろぐらむ", "k"),
    "キロリットル": ("きろりっとる", "k"), "カップ": ("かっぷ", "k"), "ケース": ("けーす", "k"), "コース": ("こーす", "k"),
    "センチ": ("せんち", "s"), "セット": ("せっと", "s"), "シーズン": ("しーずん", "s"),
    "パーセント": ("ぱーせんと", "p"), "ページ": ("ぺーじ", "p"), "ポイント": ("ぽいんと", "p"), "ピース": ("ぴーす", "p"),
}
_NATIVE_NUMBERS = {1: "ひと", 2: "ふた"}
_FOUR_SEVEN_NINE: dict[str, tuple[str, str, str]] = {
    "月": ("し", "しち", "く"), "時": ("よ", "しち", "く"), "時間": ("よ", "なな", "く"),
    "年": ("よ", "なな", "きゅう"), "年間": ("よ", "なな", "きゅう"), "年度": ("よ", "なな", "きゅう"),
    "円": ("よ", "なな", "きゅう"), "人": ("よ", "なな", "きゅう"), "日": ("よっ", "しち", "く"),
    "日間": ("よっ", "しち", "く"), "日目": ("よっ", "しち", "く"), "畳": ("よ", "なな", "きゅう"),
    "字": ("よ", "なな", "きゅう"),
}
# native numbers before つ: ひとつ ふたつ みっつ … ここのつ (3つ, 四つ星)
_TSU_NUMBERS = {1: "ひと", 2: "ふた", 3: "みっ", 4: "よっ", 5: "いつ", 6: "むっ", 7: "なな", 8: "やっ", 9: "ここの"}
_DAYS = {2: "ふつ", 3: "みっ", 4: "よっ", 5: "いつ", 6: "むい", 7: "なの", 8: "よう", 9: "ここの", 10: "とお",
         14: "じゅうよっ", 20: "はつ", 24: "にじゅうよっ"}
_WEEKDAYS = {"月": "げつ", "火": "か", "水": "すい", "木": "もく", "金": "きん", "土": "ど", "日": "にち"}


def counter_readings(n: int | None, counter: str, first_of_month: bool = False) -> tuple[str, str] | None:
    """(number reading, counter reading) for n + counter; n None means 何 (なん)."""
    entry = COUNTERS.get(counter)
    if entry is None:
        return None
    base, cls = entry
    num = "なん" if n is None else number_reading(n)
    if n is not None and counter in ("人",) and n in (1, 2):
        return ("ひと" if n == 1 else "ふた"), "り"
    if cls == "tsu":
        return (_TSU_NUMBERS[n], base) if n in _TSU_NUMBERS else None
    if cls == "native":
        if n in _NATIVE_NUMBERS:
            return _NATIVE_NUMBERS[n], base  # 一晩 ひとばん, 一言 ひとこと, 一通り ひととおり
        return num, base
    if cls == "day":
        tail = base[2:]  # "", "かん", "め"
        if n == 1 and counter == "日" and first_of_month:
            return "つい", "たち"
        if n in _DAYS:
            return _DAYS[n], "か" + tail
    if n is not None and counter in _FOUR_SEVEN_NINE and n % 10 in (4, 7, 9) and num[-2:] in ("よん", "なな", "ゅう"):
        four, seven, nine = _FOUR_SEVEN_NINE[counter]
        stem = num[: -3 if num.endswith("きゅう") else -2]
        num = stem + {4: four, 7: seven, 9: nine}[n % 10]
    if cls in ("k", "s", "t", "p", "hb", "hp") and n is not None:
        num = _geminate(num, k_row=cls in ("k", "p", "hb", "hp"))
    if cls in ("hb", "hp"):
        if num.endswith("っ"):
            base = base.translate(_HALF_VOICED)
        elif num.endswith("ん") and (cls == "hp" or not num.endswith("よん")):
            base = base.translate(_VOICED if cls == "hb" else _HALF_VOICED)
    elif counter in ("階", "軒", "足") and num.endswith(("さん", "なん")):
        base = base[0].translate(_VOICED) + base[1:]
    return num, base


# ---------------------------------------------------------------- context rules

# Words that take rendaku (voicing) right after a noun (文字通り, 手作り, 川沿い) and keep their
# plain reading elsewhere (Sudachi sometimes voices them on their own: 鉢 ばち).
RENDAKU: dict[str, tuple[str, str]] = {
    "通り": ("とおり", "どおり"), "作り": ("つくり", "づくり"), "造り": ("つくり", "づくり"), "沿い": ("そい", "ぞい"),
    "係": ("かかり", "がかり"), "川": ("かわ", "がわ"), "使い": ("つかい", "づかい"), "遣い": ("つかい", "づかい"),
    "風呂": ("ふろ", "ぶろ"), "狩り": ("かり", "がり"), "組": ("くみ", "ぐみ"), "箱": ("はこ", "ばこ"),
    "袋": ("ふくろ", "ぶくろ"), "坂": ("さか", "ざか"), "星": ("ほし", "ぼし"), "汁": ("しる", "じる"),
    "時計": ("とけい", "どけい"), "会社": ("かいしゃ", "がいしゃ"), "付け": ("つけ", "づけ"), "棚": ("たな", "だな"),
    "皿": ("さら", "ざら"), "寿司": ("すし", "ずし"), "口": ("くち", "ぐち"), "鉢": ("はち", "ばち"),
    "畑": ("はたけ", "ばたけ"), "菓子": ("かし", "がし"), "日和": ("ひより", "びより"), "好み": ("このみ", "ごのみ"),
    "羽織": ("はおり", "ばおり"), "深い": ("ふかい", "ぶかい"), "深く": ("ふかく", "ぶかく"),
    "好き": ("すき", "ずき"), "不足": ("ふそく", "ぶそく"), "止め": ("とめ", "どめ"), "掛け": ("かけ", "がけ"),
    "買い": ("かい", "がい"), "咲き": ("さき", "ざき"), "話": ("はなし", "ばなし"), "引き": ("ひき", "びき"),
    "醤油": ("しょうゆ", "じょうゆ"), "試合": ("しあい", "じあい"), "処": ("ところ", "どころ"), "問屋": ("とんや", "どんや"),
    "本": ("ほん", "ぼん"), "靴": ("くつ", "ぐつ"), "玉": ("たま", "だま"), "切れ": ("きれ", "ぎれ"),
    "払い": ("はらい", "ばらい"), "嫌い": ("きらい", "ぎらい"), "細工": ("さいく", "ざいく"), "豆腐": ("とうふ", "どうふ"),
    "暮らし": ("くらし", "ぐらし"), "蟹": ("かに", "がに"), "気味": ("きみ", "ぎみ"), "帰り": ("かえり", "がえり"),
    "漬け": ("つけ", "づけ"), "机": ("つくえ", "づくえ"), "書き": ("かき", "がき"),
    "川沿い": ("かわぞい", "がわぞい"), "日": ("", "び"),
}
# suffixes of manner that voice even after time/adverbial nouns: 通常通り, いつも通り, 普段使い
_MANNER_SUFFIXES = {"通り", "使い", "遣い"}
_PLAIN_AFTER = {"助詞", "補助記号", "動詞", "形容詞", "助動詞", "連体詞", "記号", "空白"}
_DIRECTION_NOUNS = set("東西南北上下左右前後奥横外内") | {"こちら", "そちら", "あちら", "どちら", "こっち", "そっち", "あっち", "どっち", "手前", "向こう", "反対", "逆"}
_NAN_NEXT = ("だ", "で", "と", "の", "な", "ど", "て", "じ", "ぜ")
_BRACKETS_OPEN = {"（", "(", "：", ":", "・", "･", "、", "／", "/", "〜", "～"}
_BRACKETS_CLOSE = {"）", ")", "・", "･", "、", "／", "/", "〜", "～"}

_NOCHI_AFTER = {"、", "。", "（", "(", "は", "，"}

_pos_cache: dict[int, tuple[str, ...]] = {}


def pos_of(pos_id: int) -> tuple[str, ...]:
    if pos_id < 0:
        return ("名詞", "固有名詞", "一般", "*", "*", "*")  # user dictionary entry
    pos = _pos_cache.get(pos_id)
    if pos is None:
        pos = _pos_cache[pos_id] = tuple(dictionary().pos_of(pos_id))
    return pos


@lru_cache(maxsize=1)
def _numeral_pos_ids() -> frozenset[int]:
    d = dictionary()
    ids, i = set(), 0
    while (pos := d.pos_of(i)) is not None:
        if pos[1] == "数詞":
            ids.add(i)
        i += 1
    return frozenset(ids)


_TRIGGERS = frozenset(COUNTERS) | frozenset(RENDAKU) | frozenset(_WEEKDAYS) | {
    "方", "何", "私", "行っ", "後", "家", "実", "付", "人", "中", "他", "その他", "今", "山", "生", "何時",
    "間", "前", "主", "道", "島", "行", "表し", "国", "高木", "得る", "降り", "下", "縁", "便", "描く", "描い", "描き", "描か", "描け", "描こ",
}


def apply_context_rules(toks: list[list], hits: Sequence[int] | None = None) -> None:
    """Fix readings in place using neighbouring tokens (numbers, counters, 何, 方 …).

    `hits` lists the indices worth a look (trigger words and numerals), in order; None means all.
    """
    n = len(toks)
    numerals = _numeral_pos_ids()
    for i in range(n) if hits is None else hits:
        tok = toks[i]
        surface = tok[0]
        if tok[2] in numerals or surface == "何":
            _number_rule(toks, i)
            continue
        if surface not in _TRIGGERS:
            continue
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < n else None
        if surface == "方":
            _kata_hou_rule(toks, i)
        elif surface == "私":
            # わたし, but the humble plural 私ども / 私共 is わたくしども
            tok[1] = "わたくし" if nxt is not None and nxt[0] in ("ども", "共") else "わたし"
        elif surface[0] == "描":
            _kaku_rule(toks, i)
        elif surface == "表し":
            _hyou_rule(toks, i)
        elif surface == "間":
            _aida_rule(toks, i)
        elif surface == "降り":
            _furi_rule(toks, i)
        elif surface == "縁":
            _fuchi_rule(toks, i)
        elif surface == "便":
            _ben_rule(toks, i)
        elif surface == "行っ":
            # を/も行って, 行っております: 行う (carry out), not 行く
            # …ている / …ております without a destination (に, へ, まで): 調査を実施して行っています,
            # 会費で行っています, 積極的に行っている; に行っている (has gone there) stays いっ
            after = toks[i + 2][0] if i + 2 < n else ""
            destination = prev is not None and prev[0] in ("に", "へ", "まで") and not (
                prev[0] == "に" and i >= 2 and toks[i - 2][0] in ("的", "ため", "為")  # 積極的に, 予防のために
            )
            negative = after == "い" and i + 3 < n and toks[i + 3][0].startswith("な")  # 最近は行っていない
            if (prev is not None and prev[0] in ("を", "も")) or (
                (after.startswith("おり") or after in ("い", "いる")) and not destination and not negative
            ):
                tok[1] = "おこなっ"
        elif surface == "後":
            if prev is not None and prev[0] == "その":
                tok[1] = "ご"  # その後
            elif nxt is not None and nxt[2] in numerals:
                tok[1] = "あと"  # 後1週間: remaining
            elif nxt is not None and nxt[0] in ("に", "の") and (prev is None or prev[0] in _NOCHI_AFTER):
                tok[1] = "のち"  # 後に同僚となる, （後の加藤茶）: later
        elif surface in _WEEKDAYS and (prev is None or prev[0] in _BRACKETS_OPEN) and (
            nxt is None or nxt[0] in _BRACKETS_CLOSE
        ):
            tok[1] = _WEEKDAYS[surface]  # （月）, 月・水・金, 月〜金, a lone 月 in a table
        elif surface in RENDAKU:
            _rendaku_rule(tok, prev, nxt)
        elif surface in _WORD_RULES:
            _WORD_RULES[surface](tok, prev, nxt)


def _rendaku_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    plain, voiced = RENDAKU[tok[0]]
    ppos = pos_of(prev[2]) if prev is not None else ("", "", "")
    if (
        prev is not None
        and (ppos[0] == "名詞" or ppos[:2] == ("接尾辞", "名詞的"))
        and ppos[1] != "数詞"
        and ppos[2] not in ("助数詞", "副詞可能")  # 一番好き, 一度本を: not compounds
        and prev[0][-1:] != "々"
        and (plain or _bi_after(tok[1], prev[0]))
        and not (tok[0] == "本" and nxt is not None and pos_of(nxt[2])[0] == "名詞")  # 本放送: this/main
    ):
        tok[1] = voiced
    elif prev is not None and (
        (
            tok[0] in _MANNER_SUFFIXES
            and pos_of(tok[2])[0] == "名詞"  # not the verb (そのまま使います)
            and (ppos[2] == "副詞可能" or prev[0] == "まで")  # 普段使い, これまで通り
            and (nxt is None or nxt[0] not in ("を", "が"))  # 駅まで通りを歩く: the street
        )
        or (tok[0] == "星" and prev[0] == "つ")  # 三つ星 みつぼし, 五つ星
    ):
        tok[1] = voiced
    elif plain and (prev is None or ppos[0] in _PLAIN_AFTER or (ppos[1] == "数詞" and tok[0] not in COUNTERS)):
        tok[1] = plain  # 鉢に, 1鉢 (counters after numbers are the number rule's business)


_KATAKANA_WORD = re.compile("[ァ-ヺー]+")


def _bi_after(reading: str, prev_surface: str) -> bool:
    """日 after a kanji noun: 休館日, 定休日, 記念日 → び (Sudachi gives ひ, にち or じつ)."""
    if _KANJI_RE.search(prev_surface) is None or not all(_KANJI_RE.match(ch) for ch in prev_surface):
        return False
    return reading == "ひ" or (len(prev_surface) >= 2 and reading in ("にち", "じつ"))


def _san_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and tok[1] == "やま":
        ppos = pos_of(prev[2])
        if ppos[1] == "固有名詞" or (ppos[0] == "名詞" and _KATAKANA_WORD.fullmatch(prev[0]) is not None):
            tok[1] = "さん"  # 富士山, 高尾山, ハルラ山: mountain names


def _ie_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is None:
        return
    ppos = pos_of(prev[2])
    if ppos[2] == "人名" or (ppos[1] == "固有名詞" and _KATAKANA_WORD.fullmatch(prev[0])) or (
        len(prev[0]) >= 2 and _KATAKANA_WORD.fullmatch(prev[0]) and ppos[0] == "名詞"
    ):
        tok[1] = "け"  # 佐藤家, ルクセンブルク家, ポチ家: the family / house of


# 絵を描く: drawing a picture is かく (えがく stays for figures, dreams and circles)
_PICTURES = ("絵", "画", "イラスト", "マンガ", "漫画", "まんが", "似顔絵", "挿絵", "イラストレーション")


def _kaku_rule(toks: list[list], i: int) -> None:
    tok = toks[i]
    if tok[1].startswith("えが") and i >= 2 and toks[i - 1][0] == "を" and toks[i - 2][0].endswith(_PICTURES):
        tok[1] = "か" + tok[1][2:]


def _mi_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if nxt is not None and nxt[0] in ("を", "が") or (prev is not None and pos_of(prev[2])[0] == "形容詞"):
        tok[1] = "み"  # 赤い実をつける: fruit (実は stays じつは)


def _tsuki_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is None or not pos_of(prev[2])[0] == "名詞":
        return
    if prev[0] == "日" or prev[0].endswith("日"):
        tok[1] = "づけ"  # 12月20日付: dated
    elif pos_of(prev[2])[1] != "数詞":
        tok[1] = "つき"  # トイレ付, 2食付: with


def _jin_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is None or tok[1] != "にん":
        return
    ppos = pos_of(prev[2])
    if ppos[2] == "地名" or (ppos[1] == "固有名詞" and ppos[2] != "人名"):
        tok[1] = "じん"  # フィリピン人, 上海人, ノルマン人: nationality, people
    elif ppos[1] == "普通名詞" and ppos[2] in ("一般", "副詞可能") and prev[0] not in _NIN_AFTER:
        # 宇宙人, 古代人, 欧米人 (a kind of person: じん); role nouns from actions take にん
        # (管理人, 料理人 are サ変 nouns and keep Sudachi's にん)
        if _KANJI_RE.search(prev[0]) is None or len(prev[0]) >= 2 or ppos[2] == "副詞可能":
            tok[1] = "じん"


# nouns that are not サ変 in Sudachi but name a role, an action or a count: 借地人, 被告人, 複数人
_NIN_AFTER = {"複数", "少数", "多数", "借地", "届出", "届け出", "申出", "差出", "受取", "名宛", "相続", "後見",
              "発起", "受益", "請負", "差配", "仲買", "世話", "素", "旅", "勤め", "遊び", "名義", "被告", "参考",
              "申立", "申立て", "立会", "立会い", "承継", "町", "代理", "番"}


_JUU_BEFORE = {"日", "年", "晩", "夜", "今日", "明日", "一日", "一年", "世界", "日本", "国", "家", "町", "体", "部屋", "学校", "会社"}


def _juu_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0] in _JUU_BEFORE:
        tok[1] = "じゅう"  # 一日中, 世界中: throughout
    elif prev is not None and nxt is not None and prev[0] in _LIST_DOTS and nxt[0] in _LIST_DOTS:
        tok[1] = "ちゅう"  # 大・中・小, 小・中・高校生: the middle grade


_LIST_DOTS = {"・", "･", "、", "，", "／", "/"}
_DEMONSTRATIVES = {"この", "その", "あの", "どの"}


def _tabi_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0] in _DEMONSTRATIVES and prev[0] != "どの":
        tok[1] = "たび"  # この度, その度に: occasion (a degree is 度 ど after numbers)


def _aida_rule(toks: list[list], i: int) -> None:
    tok = toks[i]
    prev = toks[i - 1] if i else None
    if prev is None:
        return
    if prev[0] in _DEMONSTRATIVES:
        tok[1] = "あいだ"  # この間, その間: the interval (Sudachi reads the bare suffix かん)
    elif prev[0] == "の" and i >= 2 and toks[i - 2][0] == "いつ":
        tok[1] = "ま"  # いつの間にか
    elif prev[0] == "瞬く":
        prev[1], tok[1] = "またたく", "ま"  # 瞬く間に (Sudachi しばたたく あいだ)


def _tane_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if nxt is not None and nxt[0] == "を" and (prev is None or pos_of(prev[2])[0] not in ("名詞", "接頭辞")):
        tok[1] = "たね"  # 種を蒔く, 種を取り除く: seed (2種を選ぶ, 生物種を守る stay しゅ)


_KANA_WORD = re.compile("[ぁ-ゖァ-ヺー]+")


def _iro_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and _KANA_WORD.fullmatch(prev[0]) and pos_of(prev[2])[0] == "名詞":
        tok[1] = "いろ"  # ローズ色, チーク色, べっこう色: colour names (after kanji 原色 げんしょく varies)


_OKURIGANA_NOUN = re.compile(".*[\u3400-\u9fff][ぁ-ゖ]+")


def _ji_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if (
        prev is not None
        and tok[1] == "とき"
        and pos_of(prev[2])[0] == "名詞"
        and _OKURIGANA_NOUN.fullmatch(prev[0])
    ):
        tok[1] = "じ"  # 申し込み時, お支払い時, 引き出し時: at the time of (a noun from a verb)


_MONTH_SPAN_AFTER = {"半", "ほど", "ぶり", "振り", "余り", "余", "足らず", "近く", "以上", "前", "後"}


def _tsuki_month_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0] in ("ひと", "ふた", "幾"):
        tok[1] = "つき"  # ひと月, ふた月: a span of months


def _nushi_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and pos_of(prev[2])[2] == "サ変可能" and _KANJI_RE.match(prev[0]):
        tok[1] = "ぬし"  # 依頼主, 投資主, 広告主, 雇用主: the one who does it


def _dou_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0].endswith("車") and tok[1] == "みち":
        tok[1] = "どう"  # 自動車道, 自転車道: a road for vehicles


def _tou_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and tok[1] == "しま" and _KATAKANA_WORD.fullmatch(prev[0]) and pos_of(prev[2])[0] == "名詞":
        tok[1] = "とう"  # ナガンヌ島, クエフ島: islands named in katakana (Sudachi knows ハワイ島 only)


# the old provinces (令制国), read 〜のくに before 国: 越後国 えちごのくに, 武蔵国 むさしのくに
# (上野/下野 are left out: their province readings こうずけ/しもつけ differ from the place names)
_PROVINCES = frozenset(
    "山城 大和 河内 和泉 摂津 伊賀 伊勢 志摩 尾張 三河 遠江 駿河 伊豆 甲斐 相模 武蔵 安房 上総 下総 常陸 "
    "近江 美濃 飛騨 信濃 陸奥 出羽 若狭 越前 加賀 能登 越中 越後 佐渡 丹波 丹後 但馬 因幡 伯耆 出雲 石見 "
    "隠岐 播磨 美作 備前 備中 備後 安芸 周防 長門 紀伊 淡路 阿波 讃岐 伊予 土佐 筑前 筑後 豊前 豊後 肥前 "
    "肥後 日向 大隅 薩摩 壱岐 対馬".split()
)


def _kuni_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0] in _PROVINCES:
        # の goes with the name, as in the dictionaries' token readings (越後 えちごの / 国 くに);
        # rendered furigana joins the two anyway
        prev[1] = ("やまと" if prev[0] == "大和" else prev[1]) + "の"
        tok[1] = "くに"


_TREE_CLASSES = {"常緑", "落葉", "小", "中", "亜", "広葉", "針葉", "喬"}


def _kouboku_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0] in _TREE_CLASSES:
        tok[1] = "こうぼく"  # 常緑高木, 落葉小高木: a tall tree (高木 alone is also the surname たかぎ)


def _eru_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and prev[0] == "を":
        tok[1] = "える"  # 結論を得る (うる stays for あり得る, し得る)


_WEATHER = {"雨", "雪", "雹", "霰", "みぞれ", "にわか雨", "大雨", "大雪", "小雨", "霜"}


def _furi_rule(toks: list[list], i: int) -> None:
    """降り: ふり for rain and snow (雨が半分降り, 雪の降り始め), おり for getting off (お降りの際)."""
    if i and toks[i - 1][0] == "お":
        toks[i][1] = "おり"
    elif any(t[0] in _WEATHER for t in toks[max(0, i - 3):i]):
        toks[i][1] = "ふり"


# page and screen parts: 画面下, 右記下 are below them (した), not under an influence (影響下 か)
_LAYOUT_NOUNS = {"画面", "ページ", "右記", "上記", "左記", "欄", "表", "図", "写真", "ボタン", "ウィンドウ", "メニュー"}


def _shita_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if tok[1] != "か" or prev is None:
        return
    if prev[0] in _LAYOUT_NOUNS or prev[0].endswith(("館", "棟")) or pos_of(prev[2])[0] == "補助記号":
        tok[1] = "した"  # 画面下にある, 気象館下の広場, １）下の購入ボタン


def _fuchi_rule(toks: list[list], i: int) -> None:
    """縁 of a thing is its edge ふち (花弁の縁, ウィンドウの縁); ties between people stay えん (ご縁, 人との縁)."""
    prev = toks[i - 1] if i else None
    if prev is None:
        if i + 1 < len(toks) and toks[i + 1][0] == "の":
            toks[i][1] = "ふち"  # 縁の飾り
    elif prev[0] == "の" and i >= 2:
        owner = pos_of(toks[i - 2][2])
        if owner[0] == "名詞" and owner[1] != "固有名詞" and toks[i - 2][0] not in _PEOPLE:
            toks[i][1] = "ふち"


_PEOPLE = {"人", "皆様", "皆さん", "方", "方々", "家族", "友人", "仲間", "私", "彼", "彼女", "先祖", "親"}
_TRANSPORT = {"交通", "アクセス", "通勤", "通学", "買い物"}


def _ben_rule(toks: list[list], i: int) -> None:
    if i >= 2 and toks[i - 1][0] == "の" and toks[i - 2][0] in _TRANSPORT:
        toks[i][1] = "べん"  # 交通の便がよい: convenience (航空便, バイク便 stay びん)


def _yuki_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if prev is not None and (prev[0] == "方面" or pos_of(prev[2])[2] == "地名"):
        tok[1] = "いき"  # 成田行の便, 石山寺方面行ホーム: bound for (５行 stays ぎょう)


def _hyou_rule(toks: list[list], i: int) -> None:
    """敬意を表します, 哀悼の意を表し: 表する ひょうする (to express a feeling of 〜意)."""
    if i >= 2 and toks[i - 1][0] == "を" and toks[i - 2][0].endswith("意"):
        toks[i][1] = "ひょうし"


def _zen_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    """前 as a prefix (former / previous): 前シーズン, 前議長, 前年度 → ぜん."""
    if nxt is None or tok[1] != "まえ":
        return
    if prev is not None and pos_of(prev[2])[0] in ("名詞", "接尾辞", "動詞", "形容詞", "助動詞"):
        return  # 駅前, 3日前, 始める前: before / in front of
    npos = pos_of(nxt[2])
    if npos[:2] == ("名詞", "普通名詞") and npos[2] not in ("助数詞可能", "副詞可能") and (
        _KATAKANA_WORD.fullmatch(nxt[0]) or (len(nxt[0]) >= 2 and all(_KANJI_RE.match(c) for c in nxt[0]))
    ):
        tok[1] = "ぜん"


def _hoka_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if tok[0] == "その他":
        tok[1] = "そのほか"
    elif nxt is not None and (nxt[0] == "の" or pos_of(nxt[2])[0] == "名詞"):
        tok[1] = "た"  # 他の, 他球団, 他メーカー: other
    else:
        tok[1] = "ほか"  # 他に, その他, …の他、: besides


_KON_NEXT = {"年", "月", "週", "回", "度", "期", "季", "春", "夏", "秋", "冬", "年度", "世紀", "大会", "国会", "学期",
             "日", "朝", "晩", "夜", "夕", "般", "次", "後", "作", "号", "件", "場所", "会期", "シーズン", "シリーズ"}


def _ima_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if nxt is not None and nxt[0] in _KON_NEXT:
        tok[1] = "こん"  # 今年度, 今大会: this
    elif tok[1] == "こん" and nxt is not None and pos_of(nxt[2])[0] == "名詞":
        tok[1] = "いま"  # 今話題の, 今人気の: now


def _nanji_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if nxt is None or nxt[0] not in ("も", "でも", "の", "までも"):
        tok[1] = "なんじ"  # 何時に来ますか: what time (いつも, いつでも, いつの間に stay いつ)


_SEI_BEFORE = {"年月日", "年", "年月", "前", "後", "死", "誕", "没年"}  # 生年月日, 生前, 生後, 生死


def _nama_rule(tok: list, prev: list | None, nxt: list | None) -> None:
    if nxt is None or (prev is not None and _KANJI_RE.search(prev[0][-1]) is not None):
        return  # after a kanji noun 生 is the suffix せい (留学生制度, 大学生ドラフト split 大学/生/…)
    if _KATAKANA_WORD.fullmatch(nxt[0]) is not None:
        tok[1] = "なま"  # 生ビール, 生クリーム: raw / fresh
    elif _KANJI_RE.match(nxt[0]) and pos_of(nxt[2])[:2] == ("名詞", "普通名詞") and nxt[0] not in _SEI_BEFORE:
        tok[1] = "なま"  # a prefix before a noun (生放送, 生写真, コーヒー生豆)


_WORD_RULES = {"何時": _nanji_rule, "生": _nama_rule, "山": _san_rule, "今": _ima_rule, "家": _ie_rule, "実": _mi_rule, "付": _tsuki_rule, "人": _jin_rule, "中": _juu_rule,
               "他": _hoka_rule, "その他": _hoka_rule, "度": _tabi_rule, "種": _tane_rule,
               "色": _iro_rule, "時": _ji_rule, "前": _zen_rule,
               "主": _nushi_rule, "道": _dou_rule, "月": _tsuki_month_rule, "島": _tou_rule, "行": _yuki_rule,
               "国": _kuni_rule, "高木": _kouboku_rule, "得る": _eru_rule,
               "下": _shita_rule}


_ROUND = {"十": 10, "百": 100, "千": 1000}


def _vague_number_rule(tok: list, nxt: list | None) -> None:
    """何十回 なんじゅっかい, 数十本 すうじゅっぽん, 何百人 なんびゃくにん: the round number's sound changes."""
    if nxt is None or nxt[0] not in COUNTERS:
        return
    readings = counter_readings(_ROUND[tok[0][1:]], nxt[0])
    if readings is None:
        return
    number, counter = readings
    if tok[0][0] == "何":
        number = "なん" + {"ひゃく": "びゃく", "ひゃっ": "びゃっ", "せん": "ぜん"}.get(number, number)
    else:
        number = "すう" + number
    tok[1], nxt[1] = number, counter


def _number_rule(toks: list[list], i: int) -> None:
    tok = toks[i]
    surface = tok[0]
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if surface == "何":
        value = None
    elif surface[1:] in _ROUND and surface[0] in "何数":
        _vague_number_rule(tok, nxt)
        return
    else:
        value = parse_quantity(surface)
        if value is not None and (len(surface) > 1 or not has_kanji(surface)):
            # Sudachi reads 10 as いちれい and 二十 as にとう; its single-kanji readings (一つ) are right
            tok[1] = number_reading(value)
    if nxt is not None:
        counter = nxt[0]
        if counter in COUNTERS:
            prev = toks[i - 1][0] if i else ""
            after = toks[i + 2][0] if i + 2 < len(toks) else ""
            after2 = toks[i + 3] if i + 3 < len(toks) else None
            # 4月1日, 1日（月）: the first of the month; 1日2回: one day
            first = counter == "日" and (prev.endswith("月") or after in ("（", "("))
            readings = counter_readings(value, counter, first) if (value is not None or surface == "何") else None
            if counter == "月" and surface in ("一", "二") and after in _MONTH_SPAN_AFTER:
                readings = ("ひと" if surface == "一" else "ふた", "つき")  # 一月半, 二月ぶり: months, not January
            if counter == "分" and after == "の" and after2 is not None and (
                after2[2] in _numeral_pos_ids() or after2[0] == "何"
            ):
                readings = (tok[1] if value is None else number_reading(value), "ぶん")  # 3分の1: a fraction
            if (
                readings is not None and counter == "つ" and readings[0].endswith("っ") and i + 2 < len(toks)
                and _KANJI_RE.match(after) and pos_of(toks[i + 2][2])[0] == "名詞"
            ):
                readings = (readings[0][:-1], readings[1])  # 三つ星 みつぼし, 四つ角 よつかど, 八つ橋 やつはし
            if readings is not None:
                tok[1], nxt[1] = readings
                return
    if surface == "何":
        # なん before d/t/n sounds and counters, なに elsewhere (何を 何が 何か 何も 何に)
        follow = nxt[1] if nxt is not None else ""
        npos = pos_of(nxt[2]) if nxt is not None else ("",)
        if follow.startswith(_NAN_NEXT) or npos[0] == "接尾辞" or (nxt is not None and has_kanji(nxt[0])):
            tok[1] = "なん"
        else:
            tok[1] = "なに"


def _kata_hou_rule(toks: list[list], i: int) -> None:
    """方: かた (person / way) vs ほう (direction / comparison)."""
    tok = toks[i]
    prev = toks[i - 1] if i else None
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if prev is None:
        return
    ppos = pos_of(prev[2])
    if prev[0].endswith(("様", "さま", "先生", "先輩", "あなた", "貴方")):
        tok[1] = "がた"  # 皆様方, 先生方: plural honorific
    elif ppos[0] == "動詞" and ppos[5].startswith("連用形"):
        tok[1] = "かた"  # 読み方, 育て方: the way of doing
    elif prev[0] == "の":
        before = toks[i - 2][0] if i >= 2 else ""
        after = toks[i + 2] if i + 2 < len(toks) else None
        comparison = (
            nxt is not None and nxt[0] == "が" and after is not None
            and pos_of(after[2])[0] in ("形容詞", "形状詞") and after[0] not in ("多い", "少ない", "多く")
        )
        # Aの方が割合が多い: a second subject after 方が is a comparison too
        after2 = toks[i + 3][0] if i + 3 < len(toks) else ""
        if nxt is not None and nxt[0] == "が" and after is not None and pos_of(after[2])[0] == "名詞" and after2 == "が":
            comparison = True
        direction = nxt is not None and nxt[0] == "を"  # 海の方を見る, 写真の方を確認: towards / that one
        # 私の方から: one's own side (nobody calls themselves 方 かた)
        side = before in _DIRECTION_NOUNS or before in _FIRST_PERSON
        tok[1] = "ほう" if side or comparison or direction else "かた"  # AのほうがBい
    elif ppos[0] in ("助動詞", "動詞", "形容詞"):
        # 行った方がいい (comparison) vs 参加した方が多い / 希望する方がいます (people)
        after = toks[i + 2] if i + 2 < len(toks) else None
        apos = pos_of(after[2])[0] if after is not None else ""
        people = apos == "動詞" or (after is not None and after[0] in _AMOUNT_WORDS)
        tok[1] = "ほう" if nxt is not None and nxt[0] == "が" and not people else "かた"


_FIRST_PERSON = {"私", "わたし", "わたくし", "僕", "ぼく", "俺", "おれ", "自分", "我々", "私たち", "私達", "僕ら",
                 "弊社", "当社", "当方", "うち"}
_AMOUNT_WORDS = {"多い", "多く", "少ない", "少なく", "数多く", "大勢", "多数", "いる", "い", "いらっしゃる", "いらっしゃい"}


_default: ReadingEngine | None = None


def default_engine() -> ReadingEngine:
    global _default
    if _default is None:
        _default = ReadingEngine()
    return _default


def tokens(text: str) -> list[Token]:
    """(surface, hiragana reading) pairs covering `text` exactly, with the default engine."""
    return default_engine().tokens(text)

