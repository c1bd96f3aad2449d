"""Rule-based やさしい日本語 rewriting that works without an LLM.

Per sentence, in this order:
  1. digits to half-width, era dates to Western dates with the weekday,
  2. fixed phrases (formal endings, honorific/humble set phrases),
  3. token rules on Sudachi tokens (ご〜ください, 〜しなければなりません, 〜する必要があります,
     〜ことができます, double negatives, 〜の上),
  4. hard words from plain_words.tsv (conjugation-aware: 提出した -> 出した),
  5. kanji numerals before counters to digits (三つ -> 3つ),
  6. long sentences split at connectives (〜ので、〜が、〜し、〜ており、〜ため、...).
Every source sentence is then checked with facts.missing_facts; a sentence that lost a fact is
put back as it was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from hideki.japanese.eras import to_western
from hideki.japanese.facts import missing_facts
from hideki.japanese.numbers import parse_number
from hideki.japanese.sentences import split_paragraphs, split_sentences
from hideki.japanese.sudachi import tokenize as sudachi_tokenize

DEFAULT_DICTIONARY = Path(__file__).parent / "data" / "plain_words.tsv"
LONG_SENTENCE = 30        # characters; longer sentences are split at connectives
MIN_CLAUSE = 8            # characters; never create a sentence shorter than this
PLAIN_MAX_AVG = 30        # is_already_plain: average sentence length at most this


# --------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Tok:
    surface: str
    base: str                      # dictionary form
    pos: tuple[str, ...]           # Sudachi POS: 4 levels + conjugation type + conjugation form

    @property
    def ctype(self) -> str:
        return self.pos[4]

    @property
    def cform(self) -> str:
        return self.pos[5]

    def is_verb(self) -> bool:
        return self.pos[0] == "動詞"


def tokenize(text: str) -> list[Tok]:
    return [Tok(m.surface(), m.dictionary_form(), tuple(m.part_of_speech())) for m in sudachi_tokenize(text, "B")]


def _join(tokens: Iterable[Tok]) -> str:
    return "".join(t.surface for t in tokens)


# --------------------------------------------------------------------------- conjugation

_GODAN_ROWS = {"う": "わいうえお", "く": "かきくけこ", "ぐ": "がぎぐげご", "す": "さしすせそ", "つ": "たちつてと",
               "ぬ": "なにぬねの", "ぶ": "ばびぶべぼ", "む": "まみむめも", "る": "らりるれろ"}
_ONBIN = {"う": "っ", "つ": "っ", "る": "っ", "く": "い", "ぐ": "い", "す": "し", "ぬ": "ん", "ぶ": "ん", "む": "ん"}
_VOICED_ONBIN = frozenset("ぐぬぶむ")
_VOICE = {"て": "で", "た": "だ", "ち": "じ"}


def _verb_class(ctype: str) -> str | None:
    if ctype.startswith("五段"):
        return "godan"
    if ctype.startswith(("上一段", "下一段")):
        return "ichidan"
    if ctype == "サ行変格":
        return "suru"
    if ctype == "カ行変格":
        return "kuru"
    return None


def conjugate(base: str, vclass: str, cform: str, next_surface: str = "") -> tuple[str, bool] | None:
    """Surface of verb `base` in Sudachi form `cform`; the bool says the next て/た must become で/だ.

    `next_surface` is the token after the verb (it decides 書いて vs 書きます). None if unsupported.
    """
    kind = cform.split("-")[0]
    if kind in ("終止形", "連体形") and cform.endswith("一般"):
        return base, False
    before_te = next_surface[:1] in ("て", "た", "で", "だ", "ち", "じ")
    if vclass == "godan":
        stem, last = base[:-1], base[-1]
        if last not in _GODAN_ROWS:
            return None
        row = _GODAN_ROWS[last]
        if kind == "未然形":
            return stem + row[0], False
        if kind == "連用形":
            if before_te:
                onbin = "っ" if base.endswith(("行く", "いく")) else _ONBIN[last]
                return stem + onbin, last in _VOICED_ONBIN
            return stem + row[1], False
        if kind in ("仮定形", "命令形"):
            return stem + row[3], False
        if kind == "意志推量形":
            return stem + row[4] + "う", False
        return None
    if vclass == "ichidan":
        stem = base[:-1]
        table = {"未然形": stem, "連用形": stem, "仮定形": stem + "れ", "命令形": stem + "ろ", "意志推量形": stem + "よう"}
        if cform == "未然形-サ":
            return stem + ("ら" if next_surface.startswith("れ") else "さ"), False
        return (table[kind], False) if kind in table else None
    if vclass == "suru":
        prefix = base[:-2]
        if kind == "未然形":
            return prefix + ("さ" if cform == "未然形-サ" or next_surface.startswith(("れ", "せ")) else
                             "せ" if cform == "未然形-セ" else "し"), False
        table = {"連用形": "し", "仮定形": "すれ", "命令形": "しろ", "意志推量形": "しよう"}
        return (prefix + table[kind], False) if kind in table else None
    if vclass == "kuru":
        prefix, written = (base[:-2], "来") if base.endswith("来る") else (base[:-2], "")
        if written:
            table = {"未然形": "来", "連用形": "来", "仮定形": "来れ", "命令形": "来い", "意志推量形": "来よう"}
        else:
            table = {"未然形": "こ", "連用形": "き", "仮定形": "くれ", "命令形": "こい", "意志推量形": "こよう"}
        return (prefix + table[kind], False) if kind in table else None
    return None


def _potential(base: str, vclass: str) -> str | None:
    """Dictionary form of the potential verb: 出す -> 出せる, 見る -> 見られる, する -> できる."""
    if vclass == "godan" and base[-1] in _GODAN_ROWS:
        return base[:-1] + _GODAN_ROWS[base[-1]][3] + "る"
    if vclass == "ichidan":
        return base[:-1] + "られる"
    if vclass == "suru":
        return base[:-2] + "できる"
    if vclass == "kuru":
        return base[:-2] + ("来られる" if base.endswith("来る") else "こられる")
    return None


def _voiced(surface: str) -> str:
    return _VOICE.get(surface[:1], surface[:1]) + surface[1:] if surface else surface


def te_form(tok: Tok) -> str | None:
    """て-form of a verb or verb-like auxiliary token: 払う -> 払って, 読む -> 読んで."""
    vclass = _verb_class(tok.ctype)
    if vclass is None:
        return None
    result = conjugate(tok.base, vclass, "連用形-一般", "て")
    if result is None:
        return None
    stem, voiced = result
    return stem + ("で" if voiced else "て")


def masu_stem(tok: Tok) -> str | None:
    """Stem before ます: 払う -> 払い, 見る -> 見, される(れる) -> れ."""
    vclass = _verb_class(tok.ctype)
    if vclass is None:
        return None
    result = conjugate(tok.base, vclass, "連用形-一般", "ます")
    return result[0] if result else None


# --------------------------------------------------------------------------- dictionary

@dataclass(frozen=True)
class Entry:
    hard: str
    plain: str
    tokens: tuple[Tok, ...]          # tokenised hard side
    verb: bool                       # hard side ends in a verb: match its dictionary form, conjugate plain
    plain_prefix: str = ""           # plain = plain_prefix + plain_verb (for verb entries)
    plain_verb: Tok | None = None


def _make_entry(hard: str, plain: str) -> Entry | None:
    tokens = tuple(tokenize(hard))
    if not tokens:
        return None
    last = tokens[-1]
    if not last.is_verb() or last.surface != last.base:
        return Entry(hard, plain, tokens, verb=False)
    plain_tokens = tokenize(plain)
    plain_last = plain_tokens[-1] if plain_tokens else None
    if plain_last is not None and (plain_last.is_verb() or plain_last.pos[0] == "助動詞") \
            and plain_last.surface == plain_last.base and _verb_class(plain_last.ctype):
        return Entry(hard, plain, tokens, True, plain[: len(plain) - len(plain_last.surface)], plain_last)
    return Entry(hard, plain, tokens, True)


def load_dictionary(path: Path) -> dict[str, str]:
    """hard -> plain from a TSV with a header line (hard<TAB>plain[<TAB>note]). ValueError on bad lines."""
    words: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if number == 1:
                if not line.lower().startswith("hard\tplain"):
                    raise ValueError(f"{path}:1: header must start with 'hard<TAB>plain'")
                continue
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) not in (2, 3) or not fields[0].strip() or not fields[1].strip():
                raise ValueError(f"{path}:{number}: expected 'hard<TAB>plain[<TAB>note]', got {line!r}")
            hard, plain = fields[0].strip(), fields[1].strip()
            if hard == plain:
                raise ValueError(f"{path}:{number}: hard and plain are the same ({hard!r})")
            words[hard] = plain
    return words


@lru_cache(maxsize=8)
def _compiled(words: tuple[tuple[str, str], ...]) -> dict[str, list[Entry]]:
    """Entries indexed by the dictionary form of their first token, longest first."""
    index: dict[str, list[Entry]] = {}
    for hard, plain in words:
        entry = _make_entry(hard, plain)
        if entry is not None:
            key = entry.tokens[0].base if entry.verb and len(entry.tokens) == 1 else entry.tokens[0].surface
            index.setdefault(key, []).append(entry)
    for entries in index.values():
        entries.sort(key=lambda e: -len(e.tokens))
    return index


# --------------------------------------------------------------------------- result

Change = tuple[str, str, str]   # (before, after, rule)


@dataclass
class SimplifyResult:
    text: str
    changes: list[Change]
    sentences_before: int
    sentences_after: int
    avg_sentence_len_before: float
    avg_sentence_len_after: float
    hard_words_left: list[str]
    reverted: list[str] = field(default_factory=list)   # source sentences put back because a fact was lost


# --------------------------------------------------------------------------- phrase rules

_PHRASES: list[tuple[re.Pattern[str], str, str]] = [(re.compile(p), r, name) for p, r, name in [
    (r"(?:は|を)?ご遠慮(?:ください|願います)", "はしないでください", "polite:ご遠慮ください"),
    (r"お問い?合わ?せ(?:ください|願います)", "問い合わせてください", "polite:お〜ください"),
    (r"(て|で)(?:いただきますよう|いただくよう|くださいますよう)に?お願い(?:申し上げ|いたし|致し|し)?ます",
     r"\1ください", "polite:〜ていただきますようお願いします"),
    (r"お願い(?:申し上げ|いたし|致し)ます", "お願いします", "humble:お願いいたします"),
    (r"させていただきます", "します", "humble:させていただきます"),
    (r"につきましては|に関しましては|に関しては|については", "は", "ending:につきましては"),
    (r"となっております|となっています|となります", "です", "ending:となっております"),
    (r"でございます", "です", "ending:でございます"),
    (r"でございました", "でした", "ending:でございます"),
    (r"ござい(?=ま)", "あり", "ending:ございます"),
    (r"することができ(ます|ません|る|ない)", r"でき\1", "ending:することができます"),
    (r"する(?:もの|こと)とします", "します", "ending:ものとします"),
    (r"(?<![な何])において", "で", "phrase:において"),
    (r"(?<![な何])における", "での", "phrase:における"),
    (r"(?<![な何])により", "で", "phrase:により"),
    (r"下さい", "ください", "script:下さい"),
]]


def _apply_phrases(sentence: str, changes: list[Change]) -> str:
    for pattern, replacement, name in _PHRASES:
        def repl(m: re.Match[str]) -> str:
            after = m.expand(replacement)
            changes.append((m.group(0), after, name))
            return after
        sentence = pattern.sub(repl, sentence)
    return sentence


# --------------------------------------------------------------------------- token rules

def _surfaces(tokens: Sequence[Tok], i: int, words: Sequence[str]) -> bool:
    return i + len(words) <= len(tokens) and all(tokens[i + k].surface == w for k, w in enumerate(words))


_OBLIGATION = [("なけれ", "ば", "なり", "ませ", "ん"), ("なけれ", "ば", "なら", "ない"), ("なく", "て", "は", "なり", "ませ", "ん"),
               ("なく", "て", "は", "なら", "ない"), ("ね", "ば", "なり", "ませ", "ん"), ("ね", "ば", "なら", "ない")]
_NEED = [("必要", "が", "あり", "ます"), ("必要", "が", "ある")]
_DOUBLE_NEG = [("ない", "わけ", "で", "は", "あり", "ませ", "ん"), ("ない", "わけ", "で", "は", "ない"),
               ("ない", "こと", "は", "あり", "ませ", "ん"), ("ない", "こと", "は", "ない"),
               ("ない", "わけ", "じゃ", "ない")]
_HONORIFIC_PREFIX = frozenset({"ご", "お", "御"})


def _token_rules(sentence: str, changes: list[Change]) -> str:
    tokens = tokenize(sentence)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        # V-なければなりません / V-なくてはならない -> V-てください
        if tok.is_verb() or (tok.pos[0] == "助動詞" and _verb_class(tok.ctype)):
            matched = next((p for p in _OBLIGATION if _surfaces(tokens, i + 1, p)), None)
            if matched and tok.cform.startswith("未然形") and (te := te_form(tok)):
                before = _join(tokens[i:i + 1 + len(matched)])
                changes.append((before, te + "ください", "ending:しなければなりません"))
                out.append(te + "ください")
                i += 1 + len(matched)
                continue
            need = next((p for p in _NEED if _surfaces(tokens, i + 1, p)), None)
            if need and tok.cform.startswith(("終止形", "連体形")) and (te := te_form(tok)):
                before = _join(tokens[i:i + 1 + len(need)])
                changes.append((before, te + "ください", "ending:する必要があります"))
                out.append(te + "ください")
                i += 1 + len(need)
                continue
            negation = next((p for p in _DOUBLE_NEG if _surfaces(tokens, i + 1, p)), None)
            if negation and tok.cform.startswith("未然形") and tok.is_verb():
                before = _join(tokens[i:i + 1 + len(negation)])
                after = tok.base + "こともあります"
                changes.append((before, after, "double-negative"))
                out.append(after)
                i += 1 + len(negation)
                continue
            # V-ことができる -> potential form (行くことができます -> 行けます)
            if (_surfaces(tokens, i + 1, ("こと", "が")) and i + 3 < len(tokens) and tokens[i + 3].base == "できる"
                    and tok.cform.startswith(("終止形", "連体形")) and tok.is_verb()):
                vclass = _verb_class(tok.ctype)
                potential = _potential(tok.base, vclass) if vclass else None
                following = tokens[i + 4].surface if i + 4 < len(tokens) else ""
                conj = conjugate(potential, "ichidan", tokens[i + 3].cform, following) if potential else None
                if conj:
                    before = _join(tokens[i:i + 4])
                    changes.append((before, conj[0], "ending:ことができます"))
                    out.append(conj[0])
                    i += 4
                    continue
        # ご記入ください -> 記入してください ; お待ちください -> 待ってください
        if tok.surface in _HONORIFIC_PREFIX and tok.pos[0] == "接頭辞" and nxt is not None and i + 2 < len(tokens):
            third = tokens[i + 2]
            if third.base in ("くださる", "願う", "いただく", "いただける") and (third.cform == "命令形" or third.base != "くださる"):
                if nxt.pos[2] == "サ変可能":
                    stem = nxt.surface + "し"
                    te = stem + "て"
                elif nxt.is_verb() and nxt.cform == "連用形-一般":
                    te = te_form(nxt)
                    stem = masu_stem(nxt)
                else:
                    te = stem = None
                if te and stem:
                    if third.base in ("くださる", "願う"):
                        ending_len = 3 + (1 if i + 3 < len(tokens) and third.base == "願う" and tokens[i + 3].surface == "ます" else 0)
                        after = te + "ください"
                    else:
                        verb = "もらう" if third.base == "いただく" else "もらえる"
                        following = tokens[i + 3].surface if i + 3 < len(tokens) else ""
                        conj = conjugate(verb, "godan" if verb == "もらう" else "ichidan", third.cform, following)
                        if conj is None:
                            out.append(tok.surface)
                            i += 1
                            continue
                        after = te + conj[0]
                        ending_len = 3
                    before = _join(tokens[i:i + ending_len])
                    changes.append((before, after, "polite:ご〜ください"))
                    out.append(after)
                    i += ending_len
                    continue
        # 記入の上、 -> 記入して、
        if (nxt is not None and tok.pos[2] == "サ変可能" and _surfaces(tokens, i + 1, ("の", "上"))
                and i + 3 < len(tokens) and tokens[i + 3].pos[1] == "読点"):
            start = i - 1 if i > 0 and tokens[i - 1].surface in _HONORIFIC_PREFIX and tokens[i - 1].pos[0] == "接頭辞" else i
            if start < i:
                out.pop()
            before = _join(tokens[start:i + 3])
            changes.append((before, tok.surface + "して", "phrase:の上"))
            out.append(tok.surface + "して")
            i += 3
            continue
        out.append(tok.surface)
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------- words

def _replace_words(sentence: str, index: dict[str, list[Entry]], changes: list[Change]) -> str:
    tokens = tokenize(sentence)
    out: list[str] = []
    i = 0
    voice_next = False
    while i < len(tokens):
        tok = tokens[i]
        if voice_next:
            tok = Tok(_voiced(tok.surface), tok.base, tok.pos)
            voice_next = False
        replaced = False
        if tok.pos[1] != "固有名詞":
            candidates = index.get(tok.surface, []) + index.get(tok.base, []) if tok.surface != tok.base \
                else index.get(tok.surface, [])
            for entry in candidates:
                result = _match(entry, tokens, i)
                if result is None:
                    continue
                length, after, voice = result
                before = _join(tokens[i:i + length])
                if out and tokens[i - 1].pos[0] == "接頭辞" and tokens[i - 1].surface in _HONORIFIC_PREFIX \
                        and not entry.verb and i > 0:
                    before = out.pop() + before
                changes.append((before, after, "word:" + entry.hard))
                out.append(after)
                i += length
                voice_next = voice
                replaced = True
                break
        if not replaced:
            out.append(tok.surface)
            i += 1
    return "".join(out)


def _match(entry: Entry, tokens: Sequence[Tok], i: int) -> tuple[int, str, bool] | None:
    """(tokens consumed, replacement, voice the next token) if `entry` matches at `i`."""
    n = len(entry.tokens)
    if i + n > len(tokens):
        if not (entry.verb and i + n - 1 <= len(tokens)):
            return None
    following = tokens[i + n] if i + n < len(tokens) else None
    if not entry.verb:
        if i + n > len(tokens) or any(tokens[i + k].surface != entry.tokens[k].surface for k in range(n)):
            return None
        # a noun that is used as a verb here (回答する) needs a verb entry
        if following is not None and following.base in ("する", "できる") and following.is_verb() \
                and entry.tokens[-1].pos[0] == "名詞":
            return None
        # inside a compound noun (移動手段, 事前予約制) a replacement would break the word
        previous = tokens[i - 1] if i > 0 else None
        if entry.tokens[-1].pos[0] == "名詞" and entry.tokens[0].pos[0] == "名詞" and (
                previous is not None and previous.pos[0] == "名詞" and previous.pos[1] != "数詞"
                or following is not None and (following.pos[0] == "接尾辞" or following.pos[0] == "名詞"
                                              and following.pos[1] not in ("数詞", "固有名詞"))):
            return None
        return n, entry.plain, False
    if i + n > len(tokens):
        return None
    if any(tokens[i + k].surface != entry.tokens[k].surface for k in range(n - 1)):
        return None
    verb = tokens[i + n - 1]
    hard_verb = entry.tokens[-1]
    next_surface = following.surface if following else ""
    if entry.plain_verb is None:
        # plain side is not a verb: only usable where the verb stands in its dictionary form
        if verb.base == hard_verb.base and verb.surface == verb.base and verb.cform.startswith(("終止形", "連体形")):
            return n, entry.plain, False
        return None
    plain_class = _verb_class(entry.plain_verb.ctype)
    if verb.base == hard_verb.base and verb.is_verb():
        if verb.cform == "命令形" and hard_verb.base in ("なさる",):
            return None
        conj = conjugate(entry.plain_verb.base, plain_class, verb.cform, next_surface)
        if conj is None:
            return None
        return n, entry.plain_prefix + conj[0], conj[1]
    # 提出できます -> 出せます
    if hard_verb.base == "する" and n >= 2 and verb.base == "できる" and verb.is_verb():
        potential = _potential(entry.plain_verb.base, plain_class)
        conj = conjugate(potential, "ichidan", verb.cform, next_surface) if potential else None
        if conj is None:
            return None
        return n, entry.plain_prefix + conj[0], False
    return None


# --------------------------------------------------------------------------- numerals

_COUNTER_EXCEPTIONS = {("一", "度"), ("一", "時"), ("一", "緒"), ("一", "番"), ("一", "応"), ("一", "生")}


def _kanji_numerals(sentence: str, changes: list[Change]) -> str:
    tokens = tokenize(sentence)
    out: list[str] = []
    for k, tok in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if (tok.pos[1] == "数詞" and re.fullmatch("[一二三四五六七八九十百千]+", tok.surface) and nxt is not None
                and (nxt.pos[0] == "接尾辞" or nxt.pos[2] == "助数詞可能")
                and (tok.surface, nxt.surface[:1]) not in _COUNTER_EXCEPTIONS):
            try:
                digits = str(parse_number(tok.surface))
            except ValueError:
                digits = tok.surface
            if digits != tok.surface:
                changes.append((tok.surface + nxt.surface, digits + nxt.surface, "number:digits"))
            out.append(digits)
        else:
            out.append(tok.surface)
    return "".join(out)


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


# --------------------------------------------------------------------------- splitting

_REASON_WORD = "だから、"
_CONTRAST_WORD = "でも、"
_TE_SKIP = frozenset({"つく", "よる", "対する", "関する", "際する", "おく", "とる", "通じる", "基づく", "応じる", "伴う",
                      "向ける", "わたる", "おける", "比べる", "当たる", "限る", "つれる", "従う", "沿う"})


def _polite_end(clause: list[Tok]) -> str | None:
    """The clause rewritten to end in です/ます (without 。), or None if its ending is not understood."""
    if not clause:
        return None
    last = clause[-1]
    head = _join(clause[:-1])
    prev = clause[-2] if len(clause) > 1 else None
    if last.base in ("ます", "です") and last.cform.startswith("終止形"):
        return _join(clause)
    if last.pos[0] == "助動詞" and last.base == "た" and prev is not None:
        if prev.base == "ない" and len(clause) > 2 and (stem := masu_stem(clause[-3])):
            return _join(clause[:-3]) + stem + "ませんでした"
        if prev.base == "ます":
            return _join(clause)
        if stem := masu_stem(prev):
            return _join(clause[:-2]) + stem + "ました"
        return None
    if last.base in ("ない", "ず", "ぬ") and last.pos[0] == "助動詞" and prev is not None:
        if stem := masu_stem(prev):
            return _join(clause[:-2]) + stem + "ません"
        return None
    if last.is_verb() or (last.pos[0] == "助動詞" and _verb_class(last.ctype)):
        if last.cform.startswith(("終止形", "連体形", "連用形-一般")):
            if last.base in ("いる", "おる") and last.cform.startswith("連用形"):
                return head + "います"
            stem = masu_stem(last)
            return head + stem + "ます" if stem else None
        return None
    if last.pos[0] == "形容詞" and last.cform.startswith(("終止形", "連体形")):
        if last.base in ("ない", "無い"):
            return head + "ありません"
        return _join(clause) + "です"
    if last.pos[0] == "助動詞" and last.base == "だ" and last.surface in ("だ", "な", "で"):
        return head + "です" if head else None
    if last.base == "たい" and last.cform.startswith(("終止形", "連体形")):
        return _join(clause) + "です"
    if last.surface in ("て", "で") and last.pos[1] == "接続助詞" and prev is not None:
        if prev.base in ("いる", "おる") and len(clause) > 2:
            return _join(clause[:-2]) + "います"
        if prev.base in _TE_SKIP:
            return None
        if stem := masu_stem(prev):
            return _join(clause[:-2]) + stem + "ます"
    return None


def _split_points(tokens: list[Tok]) -> list[tuple[int, int, str, str]]:
    """(end of clause, start of next clause, inserted word, rule) for each connective."""
    points: list[tuple[int, int, str, str]] = []
    for k, tok in enumerate(tokens[:-1]):
        nxt = tokens[k + 1]
        after_comma = k + 2 if nxt.pos[1] == "読点" else k + 1
        if tok.pos[1] == "接続助詞" and tok.surface in ("ので", "から", "が", "けれど", "けれども", "けど"):
            word = _REASON_WORD if tok.surface in ("ので", "から") else _CONTRAST_WORD
            if tok.surface == "から" and nxt.pos[1] != "読点":
                continue
            points.append((k, after_comma, word, "split:" + tok.surface))
        elif tok.surface == "の" and tok.pos[1] == "準体助詞" and nxt.surface == "で" and nxt.base == "だ":
            after_comma = k + 3 if k + 2 < len(tokens) and tokens[k + 2].pos[1] == "読点" else k + 2
            points.append((k, after_comma, _REASON_WORD, "split:ので"))
        elif tok.surface == "ため" and tok.pos[0] == "名詞" and k > 0 and tokens[k - 1].pos[0] in ("動詞", "助動詞", "形容詞"):
            skip = 1 if nxt.surface == "に" else 0
            if k + 1 + skip < len(tokens) and tokens[k + 1 + skip].pos[1] == "読点":
                points.append((k, k + 2 + skip, _REASON_WORD, "split:ため"))
        elif nxt.pos[1] == "読点" and (
                (tok.is_verb() or (tok.pos[0] == "助動詞" and _verb_class(tok.ctype))) and tok.cform == "連用形-一般"
                or tok.surface in ("て", "で") and tok.pos[1] == "接続助詞"
                or tok.pos[0] == "助動詞" and tok.base in ("ず",)):
            if tok.is_verb() and tok.base in _TE_SKIP:
                continue
            points.append((k + 1, k + 2, "", "split:連用"))
    return points


def _as_request(clause: list[Tok]) -> str | None:
    """The clause as 〜てください (for 連用 clauses of a sentence that asks the reader to act)."""
    last = clause[-1]
    if last.surface in ("て", "で") and last.pos[1] == "接続助詞":
        return _join(clause) + "ください"
    if (last.is_verb() or last.pos[0] == "助動詞") and last.cform == "連用形-一般" and (te := te_form(last)):
        return _join(clause[:-1]) + te + "ください"
    return None


def _split_sentence(sentence: str, changes: list[Change]) -> list[str]:
    if len(sentence) <= LONG_SENTENCE:
        return [sentence]
    tokens = tokenize(sentence)
    request = sentence.rstrip("。！？!? ").endswith("ください")
    pieces: list[str] = []
    start = 0
    for end, next_start, word, rule in _split_points(tokens):
        if end <= start:
            continue
        clause = tokens[start:end] if rule != "split:連用" else tokens[start:end]
        if rule == "split:連用":
            clause = tokens[start:end]
        rest = _join(tokens[next_start:])
        clause_text = _join(clause)
        if len(clause_text) < MIN_CLAUSE or len(rest) < MIN_CLAUSE or _open_bracket(clause_text):
            continue
        polite = _as_request(clause) if (request and rule == "split:連用") else None
        polite = polite or _polite_end(clause)
        if polite is None:
            continue
        pieces.append(polite + "。")
        changes.append((_join(tokens[start:next_start]), polite + "。" + word, rule))
        start = next_start
        if word:
            tokens = tokens[:next_start] + [Tok(word, word, ("接続詞", "*", "*", "*", "*", "*"))] + tokens[next_start:]
    if not pieces:
        return [sentence]
    pieces.append(_join(tokens[start:]))
    return pieces


def _open_bracket(text: str) -> bool:
    return any(text.count(o) > text.count(c) for o, c in (("「", "」"), ("（", "）"), ("(", ")"), ("『", "』")))


# --------------------------------------------------------------------------- simplifier

def _diff(before: str, after: str) -> tuple[str, str]:
    """The changed middle of two strings (common prefix and suffix removed)."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return before[start:len(before) - end], after[start:len(after) - end]


def _avg_len(sentences: Sequence[str]) -> float:
    return sum(len(s) for s in sentences) / len(sentences) if sentences else 0.0


class Simplifier:
    """Offline やさしい日本語 rewriter. Extra dictionaries override the built-in one entry by entry."""

    def __init__(self, extra_dictionaries: Sequence[Path] = (), base_dictionary: Path | None = DEFAULT_DICTIONARY):
        words: dict[str, str] = {}
        for path in ([base_dictionary] if base_dictionary else []) + [Path(p) for p in extra_dictionaries]:
            words.update(load_dictionary(path))
        self.words = words
        self._index = _compiled(tuple(sorted(words.items())))

    def simplify_sentence(self, sentence: str) -> tuple[list[str], list[Change]]:
        """One source sentence -> rewritten sentences and the changes (reverted if a fact was lost)."""
        changes: list[Change] = []
        text = re.sub(r"(?<=\d)，(?=\d{3})", ",", sentence.translate(_FULLWIDTH_DIGITS))
        western = to_western(text)
        if western != text:
            changes.append(_diff(text, western) + ("date:western",))
            text = western
        text = _apply_phrases(text, changes)
        text = _token_rules(text, changes)
        for _ in range(2):  # a second pass catches words freed by the first (実施いたします -> 実施します)
            replaced = _replace_words(text, self._index, changes)
            if replaced == text:
                break
            text = replaced
        text = _kanji_numerals(text, changes)
        pieces = [p for p in _split_sentence(text, changes) if p]
        if missing_facts(sentence, "".join(pieces)):
            return [sentence], []
        return pieces, changes

    def simplify(self, text: str) -> SimplifyResult:
        before = split_sentences(text)
        lines: list[str] = []
        changes: list[Change] = []
        reverted: list[str] = []
        after: list[str] = []
        for paragraph in split_paragraphs(text):
            if not paragraph:
                if lines and lines[-1] != "":
                    lines.append("")
                continue
            for sentence in paragraph:
                pieces, sentence_changes = self.simplify_sentence(sentence)
                if not sentence_changes and pieces == [sentence] and self._would_change(sentence):
                    reverted.append(sentence)
                changes.extend(sentence_changes)
                after.extend(pieces)
                lines.extend(pieces)
        while lines and lines[-1] == "":
            lines.pop()
        result_text = "\n".join(lines)
        return SimplifyResult(
            text=result_text,
            changes=changes,
            sentences_before=len(before),
            sentences_after=len(after),
            avg_sentence_len_before=_avg_len(before),
            avg_sentence_len_after=_avg_len(after),
            hard_words_left=self.hard_words(result_text),
            reverted=reverted,
        )

    def _would_change(self, sentence: str) -> bool:
        return bool(self.hard_words(sentence))

    def hard_words(self, text: str) -> list[str]:
        """Dictionary words still in `text` (e.g. in reverted sentences), in order, without repeats."""
        found: list[str] = []
        tokens = tokenize(text)
        for i, tok in enumerate(tokens):
            if tok.pos[1] == "固有名詞":
                continue
            for entry in self._index.get(tok.surface, []) + (self._index.get(tok.base, []) if tok.base != tok.surface else []):
                if _match(entry, tokens, i) is not None and entry.hard not in found:
                    found.append(entry.hard)
                    break
        return found

    def is_already_plain(self, text: str) -> bool:
        """Short sentences, no dictionary words and nothing the rules would rewrite."""
        sentences = split_sentences(text)
        if not sentences or _avg_len(sentences) > PLAIN_MAX_AVG or max(len(s) for s in sentences) > 2 * PLAIN_MAX_AVG:
            return False
        if self.hard_words(text):
            return False
        return all(not self.simplify_sentence(s)[1] for s in sentences)


@lru_cache(maxsize=1)
def default_simplifier() -> Simplifier:
    return Simplifier()


def simplify(text: str) -> SimplifyResult:
    """Rewrite `text` in やさしい日本語 with the built-in dictionary."""
    return default_simplifier().simplify(text)


def is_already_plain(text: str) -> bool:
    return default_simplifier().is_already_plain(text)
