"""Question/answer pairs from a notice or manual, offline (the Q&A生成 channel's local engine).

    pairs = generate_pairs(text, n=10)      # a PairList (a list of QAPair) with .requested / .note
    problems = check_pairs(pairs, text)     # also used on the LLM path's output
    csv_text = to_faq_csv(pairs, "gomi.txt")
    parse_requested_count("質問を三つ作って")  -> 3

How questions are made (no model, Sudachi tokens plus regular expressions):
  label lines   「日時：10月5日（日）午前9時から」 -> 「防災訓練の日時はいつですか？」 (kind from the label)
  topic + copula「申請期間は4月1日から4月30日までです。」 -> 「申請期間はいつですか？」
  wh-substitution a fact of a sentence (date/time, amount, count, place, person, phone, the
                things to bring or needed) is replaced by いつ/何時/いくら/何人/どこ/だれ/何 and the
                predicate is made a polite question: 「…を10月5日に行います。」 -> 「…をいつ行いますか？」,
                「…を持って市民課窓口にお越しください。」 -> 「…を持ってどこに行けばよいですか？」
  procedure     「〜するには、…してください。」 -> 「〜するにはどうすればよいですか？」 A = the instruction
  reason        「工事のため、休館します。」 -> 「なぜ休館するのですか？」 A = 「工事のため」
Every answer is an exact span of the source text (start/end are its offsets); a candidate whose
span does not match is dropped. Candidates are ranked facts > procedures > general, spread over
the paragraphs, deduplicated by question text and by answer span, and never padded: when the
text supports fewer than n pairs, fewer are returned and PairList.note says so.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field

from hideki.japanese.facts import extract_facts, strip_readings
from hideki.japanese.sentences import split_sentences
from hideki.japanese.sudachi import tokenizer

MAX_COUNT = 50
FAQ_HEADER = ["id", "質問", "回答", "カテゴリ", "キーワード", "URL", "更新日"]

# kinds, most informative first (facts > procedures > general)
KIND_WEIGHT = {
    "いつ": 3.0, "いくら": 3.0, "問い合わせ先": 3.0, "どこ": 2.8, "いくつ": 2.6, "だれ": 2.6,
    "何が必要": 2.4, "どうすれば": 2.2, "なぜ": 1.8, "何": 1.2,
}


@dataclass
class QAPair:
    question: str
    answer: str
    evidence: str = ""   # the source sentence
    start: int = -1      # answer span in the source text (-1: not a span, e.g. from a model)
    end: int = -1
    kind: str = ""       # いつ/どこ/だれ/いくら/いくつ/どうすれば/何が必要/問い合わせ先/なぜ/何


class PairList(list):
    """The generated pairs (best first). `requested` is n; `note` explains a shortfall (else "")."""

    def __init__(self, pairs=(), requested: int = 0, note: str = ""):
        super().__init__(pairs)
        self.requested = requested
        self.note = note

    @property
    def short(self) -> bool:
        return len(self) < self.requested


# --------------------------------------------------------------------------- text helpers

def _shadow(text: str) -> str:
    """NFKC per character where that keeps one character, so offsets stay aligned (１２ -> 12)."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out).replace("〜", "~").replace("～", "~")


def _norm(text: str) -> str:
    """Comparison form: readings removed, NFKC, no spaces, unified waves and dashes, lower case."""
    text = unicodedata.normalize("NFKC", strip_readings(text))
    text = re.sub(r"\s+", "", text).replace("〜", "~").replace("～", "~")
    text = re.sub(r"[‐‑‒–—―−ｰ](?=\d)", "-", text)
    return text.lower()


def _question_key(question: str) -> str:
    return re.sub(r"[?？。、,.!！「」『』\"'・]", "", _norm(question))


_BULLET = re.compile(r"^[\s\u3000]*(?:[・●○■□◆◇▪▶►◎〇＊*※\-－]+|\(?\d{1,2}[).．、]|[（(]\d{1,2}[)）]|[①-⑳])?[\s\u3000]*")
_CONNECTOR = re.compile(r"^(?:なお|また|ただし|さらに|その他|そのほか|おって|それから|ちなみに|加えて|一方)[、,]\s*")
_GREETING = re.compile(
    r"お世話になって|よろしくお願い|ありがとうございま|ご協力をお願い|ご理解|ご了承|おはようございます|こんにちは|こんばんは"
    r"|お疲れ様|拝啓|敬具|以上です|以上。?$|^(?:[^、。]{0,30}について)?(?:お知らせ|ご案内)(?:します|いたします)。?$")
_DEMONSTRATIVE = re.compile(r"^(?:これ|それ|あれ|この|その|あの|こちら|そちら|こう|そう|同(?!じ)|上記|下記|以下|次)(?!他|ほか)")


@dataclass
class _Sentence:
    text: str
    start: int        # offset of text in the source
    para: int
    index: int
    tokens: list = field(default_factory=list)  # (surface, pos tuple, dictionary form, begin, end)
    body: int = 0     # offset (in text) after bullets and connectors


def _locate_sentences(text: str) -> list[_Sentence]:
    """split_sentences with offsets; paragraphs are blocks between blank lines (else lines)."""
    lines = text.splitlines(keepends=True)
    blank_separated = any(not line.strip() for line in lines[1:-1]) if len(lines) > 2 else False
    para_of_offset: list[tuple[int, int]] = []
    offset, para, prev_blank = 0, 0, False
    for i, line in enumerate(lines):
        if not line.strip():
            prev_blank = True
        else:
            if i and (prev_blank or not blank_separated):
                para += 1
            prev_blank = False
        para_of_offset.append((offset, para))
        offset += len(line)
    out: list[_Sentence] = []
    cursor = 0
    for sentence in split_sentences(text):
        at = text.find(sentence, cursor)
        if at < 0:
            continue
        cursor = at + len(sentence)
        p = 0
        for line_start, line_para in para_of_offset:
            if line_start > at:
                break
            p = line_para
        out.append(_Sentence(sentence, at, p, len(out)))
    return out


def _tokenize(s: _Sentence) -> None:
    s.tokens = [(m.surface(), m.part_of_speech(), m.dictionary_form(), m.begin(), m.end())
                for m in tokenizer("C").tokenize(s.text)]
    body = _BULLET.match(s.text).end()
    while True:
        m = _CONNECTOR.match(s.text[body:])
        if not m:
            break
        body += m.end()
    s.body = body


def _title(sentences: list[_Sentence]) -> str:
    """The notice's subject from a heading line (「防災訓練のお知らせ」 -> 防災訓練), else ""."""
    if not sentences:
        return ""
    first = sentences[0].text.strip()
    if len(first) > 40 or first.endswith(("。", ".", "？", "?")) or _LABEL.match(first):
        return ""
    first = re.sub(r"^[【\[［〔<＜《■◆●□◇☆★\s]*(?:重要|お知らせ|ご案内|注意|新着)[】\]］〕>＞》]\s*", "", first)
    first = re.sub(r"[【】\[\]［］〔〕「」『』<>＜＞《》■◆●□◇☆★]", "", first).strip()
    first = re.sub(r"(?:のお知らせ|のご案内|のお願い|に関するお知らせ|についてのお知らせ|について|のご連絡|のごあんない|のおしらせ)$", "", first)
    if len(first) < 2 or _GREETING.search(first):
        return ""
    return first


# --------------------------------------------------------------------------- fact patterns (on the shadow)

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_KNUM = r"(?<![\u3400-\u9fff])[一二三四五六七八九十百千]+"
_YEAR = r"(?:(?:令和|平成|昭和|大正|明治|西暦)\s*(?:\d{1,4}|元|[一二三四五六七八九十]+)\s*年度?|(?<!\d)\d{4}\s*年度?(?!間))"
_MONTH_DAY = r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?(?:上旬|中旬|下旬|末|初め|中)?"
_WEEKDAY_P = r"\s*[(（][月火水木金土日祝休](?:曜日?)?(?:[・,、][月火水木金土日祝休]日?)?[)）]"
_WEEKDAY_W = r"(?:毎週|毎月第\d(?:[・,、と]第?\d)*|第\d)?[月火水木金土日]曜日?(?:[・,、と][月火水木金土日]曜日?)*(?:及び祝日|・祝日|祝日)?"
_CLOCK = r"(?:(?:朝|夕方|夜|午前|午後)\s*)?\d{1,2}\s*時(?!間|点|代|期|刻)(?:\s*\d{1,2}\s*分|半)?|\d{1,2}:\d{2}(?!\d)|正午"
_ERA = r"\d{1,2}世紀(?:前半|後半|末|初頭|中頃|半ば)?|\d{3,4}年代(?:前半|後半|半ば)?|(?:江戸|明治|大正|昭和|平成|室町|鎌倉|平安|奈良|飛鳥|戦国|安土桃山)時代(?:前期|中期|後期|末期|初期)?"
_DAY_ONLY = r"(?<!\d)\d{1,2}\s*日(?=" + _WEEKDAY_P + r")"
_DATE_ATOM = (r"(?:" + _YEAR + r"(?:\s*" + _MONTH_DAY + r")?|" + _MONTH_DAY + r"|" + _DAY_ONLY + r"|" + _ERA + r"|"
              + _WEEKDAY_W + r")(?:" + _WEEKDAY_P + r")?")
_WHEN_ATOM = r"(?:" + _DATE_ATOM + r"|" + _CLOCK + r")"
_WHEN_SEQ = _WHEN_ATOM + r"(?:\s*(?:の|、|,|・|と|及び|および|や)?\s*" + _WHEN_ATOM + r")*"
_WHEN = re.compile(
    r"(?P<core>" + _WHEN_SEQ + r"(?:\s*(?P<range>から|より|~|-|－|―)\s*" + _WHEN_SEQ + r")?)"
    r"(?P<suffix>\s*まで|\s*から|\s*にかけて|以降|以前|ごろ|頃)?")
_CLOCK_ONLY = re.compile(r"^(?:" + _CLOCK + r"|\s|から|より|~|-|－|―|まで)+$")
_AMOUNT = re.compile(r"(?:[¥￥]\s?" + _NUM + r"|(?:" + _NUM + r"|" + _KNUM + r")(?:\s*[万千]\s*(?:" + _NUM + r"|[一二三四五六七八九]?千)?)?\s*円)")
_FREE = re.compile(r"無料|無償")
_PHONE = re.compile(
    r"(?<![0-9])(?:\(0\d{1,4}\)\s?\d{1,4}-\d{3,4}|0\d{1,4}-\d{1,4}-\d{3,4}|0\d{1,4}\(\d{1,4}\)\d{3,4}"
    r"|0[5-9]0\d{8}|0\d{9})(?![0-9])")
_COUNTERS = ("か所", "箇所", "カ所", "ヶ所", "ケ所", "か月", "ヶ月", "カ月", "ケ月", "種類", "世帯", "週間", "日間", "年間", "時間", "分間",
             "人", "名", "件", "回", "個", "枚", "通", "部", "冊", "台", "本", "歳", "才", "つ", "校", "店舗", "頭", "匹", "羽", "点",
             "問", "袋", "キロ", "センチ", "メートル", "km", "kg", "cm", "m", "%", "パーセント", "割", "倍", "階", "ページ", "社", "団体",
             "チーム", "組", "区", "市", "町", "村", "県", "か国", "カ国", "ヵ国", "ヶ国", "駅", "巻", "話", "曲", "作品", "種", "基", "機", "隻", "両", "票", "期", "代", "位", "号", "条", "錠", "科", "点")
_COUNT = re.compile(r"(?P<num>" + _NUM + r"|" + _KNUM + r")\s*(?P<counter>" + "|".join(
    re.escape(c) for c in sorted(set(_COUNTERS), key=len, reverse=True)) + r")(?![\u3040-\u309f]{0,0}[\u3400-\u9fff])")
_COUNT_QUESTION = {"つ": "いくつ", "%": "何パーセント", "m": "何メートル", "km": "何キロメートル", "kg": "何キログラム",
                   "cm": "何センチ", "箇所": "何か所", "カ所": "何か所", "ヶ所": "何か所", "ケ所": "何か所", "ヶ月": "何か月",
                   "カ月": "何か月", "ケ月": "何か月", "カ国": "何か国", "ヵ国": "何か国", "ヶ国": "何か国", "才": "何歳"}

_PLACE_SUFFIXES = (
    "役所", "役場", "支所", "出張所", "事務所", "センター", "課", "係", "窓口", "館", "公民館", "小学校", "中学校", "高校", "学校",
    "公園", "会場", "広場", "病院", "診療所", "駅", "体育館", "ホール", "保健所", "郵便局", "庁舎", "本庁舎", "階", "室", "集積所",
    "ステーション", "グラウンド", "施設", "受付", "カウンター", "ロビー", "市役所", "区役所", "町役場", "駅前", "付近", "周辺", "地域",
    "地方", "市", "区", "町", "村", "県", "都", "府", "道", "国", "島", "州", "港", "空港", "寺", "神社", "城", "川", "山", "湖", "海",
)
_PERSON_SUFFIXES = ("氏", "さん", "様", "先生", "博士", "教授")

# topic words (the X of 「XはYです」 or a label) -> kind
_TOPIC_KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"問い?合わ?せ|問合せ|連絡先|電話番号|担当課|担当窓口|お問合せ"), "問い合わせ先"),
    (re.compile(r"日時|日程|期間|期限|期日|時間|時期|開催日|実施日|収集日|締切|締め切り|受付日|予定日|曜日|年月日|いつ|開館|休館日|日$"), "いつ"),
    (re.compile(r"場所|会場|窓口|受付場所|提出先|申込先|申し込み先|申請先|送付先|集合|所在地|住所|開催地|どこ"), "どこ"),
    (re.compile(r"費用|料金|手数料|参加費|会費|金額|使用料|利用料|受講料|負担額|支給額|手当額|額$|料$|代$"), "いくら"),
    (re.compile(r"定員|人数|件数|回数|募集数|募集人数|枠"), "いくつ"),
    (re.compile(r"対象|対象者|資格|参加者|応募資格|申請者|申込者|受給者"), "だれ"),
    (re.compile(r"持ち物|持物|必要書類|必要なもの|必要な書類|持参|添付書類|提出書類|用意"), "何が必要"),
    (re.compile(r"方法|手続き|手続|申し?込み?方|出し方|申請方法|流れ|手順|やり方"), "どうすれば"),
    (re.compile(r"理由|目的"), "なぜ"),
]
_GENERIC_LABELS = re.compile(r"^(?:日時|日程|期間|期限|時間|場所|会場|対象|対象者|定員|費用|料金|参加費|持ち物|持物|申込方法|申し込み方法|"
                             r"申込み方法|申込期間|申込期限|申し込み期限|問い合わせ|問い合わせ先|問合せ|問合せ先|お問い合わせ|お問い合わせ先|"
                             r"内容|その他|備考|注意|注意事項|申込先|申し込み先|提出先|必要書類|締切|締め切り|受付期間|受付時間|開催日|集合場所|"
                             r"雨天時|主催|講師|申請方法|申請期間|手数料|連絡先|電話|電話番号|担当|担当課|実施日|募集人数)$")
_LABEL = re.compile(r"^[\s\u3000]*(?:[・●○■□◆◇▪▶►◎＊*※\-]+[\s\u3000]*)?(?:【(?P<l1>[^】]{1,15})】|(?P<l2>[^\s:：。、「」()（）]{1,15}?)[\s\u3000]*[:：])[\s\u3000]*(?P<value>\S.*?)[\s\u3000。]*$")


def _topic_kind(topic: str) -> str | None:
    for pattern, kind in _TOPIC_KINDS:
        if pattern.search(topic):
            return kind
    return None


# --------------------------------------------------------------------------- conjugation (polite questions)

_ROW = {"う": "いえ", "く": "きけ", "ぐ": "ぎげ", "す": "しせ", "つ": "ちて", "ぬ": "にね", "ぶ": "びべ", "む": "みめ", "る": "りれ"}


def _masu_stem(dictionary_form: str, conjugation: str) -> str | None:
    if not dictionary_form:
        return None
    if conjugation.startswith("五段"):
        last = dictionary_form[-1]
        return dictionary_form[:-1] + _ROW[last][0] if last in _ROW else None
    if conjugation.startswith(("上一段", "下一段")):
        return dictionary_form[:-1]
    if conjugation.startswith("サ行変格"):
        return dictionary_form[:-2] + "し" if dictionary_form.endswith(("する", "ずる")) else None
    if conjugation.startswith("カ行変格"):
        return dictionary_form[:-2] + ("来" if dictionary_form.endswith("来る") else "き")
    return None


def _ba_form(dictionary_form: str, conjugation: str) -> str | None:
    if conjugation.startswith("五段"):
        last = dictionary_form[-1]
        return dictionary_form[:-1] + _ROW[last][1] + "ば" if last in _ROW else None
    if conjugation.startswith(("上一段", "下一段")):
        return dictionary_form[:-1] + "れば"
    if conjugation.startswith("サ行変格"):
        return dictionary_form[:-2] + "すれば" if dictionary_form.endswith("する") else None
    if conjugation.startswith("カ行変格"):
        return dictionary_form[:-1] + "れば"
    return None


def _nai_form(dictionary_form: str, conjugation: str) -> str | None:
    """できる -> できない, 使う -> 使わない, する -> しない."""
    if conjugation.startswith("五段"):
        last = dictionary_form[-1]
        row = {"う": "わ", "く": "か", "ぐ": "が", "す": "さ", "つ": "た", "ぬ": "な", "ぶ": "ば", "む": "ま", "る": "ら"}
        return dictionary_form[:-1] + row[last] + "ない" if last in row else None
    if conjugation.startswith(("上一段", "下一段")):
        return dictionary_form[:-1] + "ない"
    if conjugation.startswith("サ行変格") and dictionary_form.endswith("する"):
        return dictionary_form[:-2] + "しない"
    if conjugation.startswith("カ行変格"):
        return dictionary_form[:-2] + ("来ない" if dictionary_form.endswith("来る") else "こない")
    return None


def _ending(s: _Sentence) -> tuple[int, str, str] | None:
    """How the sentence's predicate becomes a polite question: (cut, replacement, style).

    question = text[...:cut] + replacement; style is "ask" (…ですか/ますか), "how" (…ばよいですか)
    or None when the ending is not understood. Offsets are within s.text.
    """
    toks = s.tokens
    end = len(toks)
    while end and (toks[end - 1][1][0] in ("補助記号", "空白") or toks[end - 1][0] in ("。", "」", "』", ")", "）")):
        end -= 1
    if end == 0:
        return None
    toks = toks[:end]
    surface = s.text[:toks[-1][4]]
    cut = toks[-1][4]
    last, pos, lemma = toks[-1][0], toks[-1][1], toks[-1][2]

    if surface.endswith(("ですか", "ますか", "でしょうか")) or last in ("か", "の") and pos[0] == "助詞":
        return None  # already a question
    if surface.endswith(("ません", "ました", "でした", "ます", "です", "ませんでした")):
        if surface.endswith(("お願いします", "お願いいたします", "お願い致します", "いたします", "致します")) and not surface.endswith("実施いたします"):
            return None
        return cut, "か？", "ask"
    if surface.endswith(("ください", "下さい")):
        # verb te-form + ください -> ba-form + よいですか; お越しください -> 行けば; ご提出ください -> 提出すれば
        i = len(toks) - 2
        if i >= 0 and toks[i][0] in ("て", "で") and toks[i][1][0] == "助詞":
            if i - 1 >= 0 and toks[i - 1][0] in ("ない", "ず") or surface.endswith(("ないでください", "ないで下さい")):
                return None
            j = i - 1
            if j >= 0 and toks[j][1][0] == "動詞":
                ba = _ba_form(toks[j][2], toks[j][1][4])
                if ba:
                    return toks[j][3], ba + "よいですか？", "how"
            return None
        j = len(toks) - 2
        if j >= 1 and toks[j - 1][0] in ("お", "ご", "御"):
            word = toks[j]
            if word[0] == "越し" or word[2] in ("越す", "出で", "いでる"):
                return toks[j - 1][3], "行けばよいですか？", "how"
            if word[0] in ("持ち",):
                return toks[j - 1][3], "持っていけばよいですか？", "how"
            if word[1][0] == "動詞":
                ba = _ba_form(word[2], word[1][4])
                return (toks[j - 1][3], ba + "よいですか？", "how") if ba else None
            if word[1][0] == "名詞":
                if word[0].endswith(("問い合わせ", "問合せ", "申し込み", "申込み", "申込")):
                    base = {"問合せ": "問い合わせ", "申込み": "申し込み", "申込": "申し込み"}.get(word[0], word[0])
                    stem = base[:-1] + {"せ": "せれ", "み": "め"}[base[-1]] + "ば" if base[-1] in "せみ" else None
                    return (toks[j - 1][3], stem + "よいですか？", "how") if stem else None
                return toks[j - 1][3], word[0] + "すればよいですか？", "how"
        return None
    if surface.endswith(("である", "であります")):
        return s.text.rfind("で", 0, cut), "ですか？", "ask"
    if surface.endswith(("であった",)):
        return s.text.rfind("で", 0, cut), "でしたか？", "ask"
    if last == "だ" and pos[0] == "助動詞":
        return toks[-1][3], "ですか？", "ask"
    if pos[0] in ("名詞", "接尾辞") or pos[0] == "代名詞":
        return cut, "ですか？", "ask"
    if pos[0] == "形容詞" and "終止形" in pos[5]:
        return cut, "ですか？", "ask"
    if pos[0] == "動詞" and "終止形" in pos[5]:
        stem = _masu_stem(lemma, pos[4])
        return (toks[-1][3], stem + "ますか？", "ask") if stem else None
    if pos[0] == "助動詞":
        if lemma in ("れる", "られる", "せる", "させる") and "終止形" in pos[5]:
            return toks[-1][3], last[:-1] + "ますか？", "ask"
        if lemma == "た" and len(toks) >= 2:
            prev = toks[-2]
            if prev[1][0] == "動詞":
                stem = _masu_stem(prev[2], prev[1][4])
                return (prev[3], stem + "ましたか？", "ask") if stem else None
            if prev[2] in ("れる", "られる", "せる", "させる"):
                return prev[3], prev[0] + "ましたか？", "ask"
            if prev[0] == "だっ":
                return prev[3], "でしたか？", "ask"
        if lemma == "ない" and len(toks) >= 2:
            return cut, "のですか？", "ask"
    return None


def _plain_predicate(clause: str) -> str | None:
    """「休館します」 -> 「休館する」; 「ご利用ください」 -> 「利用する必要がある」 (for なぜ questions)."""
    toks = [(m.surface(), m.part_of_speech(), m.dictionary_form()) for m in tokenizer("C").tokenize(clause)]
    while toks and toks[-1][1][0] in ("補助記号", "空白"):
        toks.pop()
    if len(toks) < 2:
        return None
    text = "".join(t[0] for t in toks)
    if text.endswith("ません") and toks[-1][0] == "ん" and toks[-2][0] == "ませ" and len(toks) >= 3 and toks[-3][1][0] == "動詞":
        nai = _nai_form(toks[-3][2], toks[-3][1][4])
        return "".join(t[0] for t in toks[:-3]) + nai if nai else None
    if text.endswith(("ません", "ました", "でした")):
        return None
    if toks[-1][0] == "ます" and toks[-2][1][0] == "動詞":
        return "".join(t[0] for t in toks[:-2]) + toks[-2][2]
    if toks[-1][0] == "です":
        return "".join(t[0] for t in toks[:-1]) + "な"
    if toks[-1][0] in ("ください", "下さい") and toks[-2][0] in ("て", "で") and len(toks) >= 3 and toks[-3][1][0] == "動詞":
        return "".join(t[0] for t in toks[:-3]) + toks[-3][2] + "必要がある"
    if toks[-1][0] in ("ください", "下さい") and len(toks) >= 3 and toks[-3][0] in ("ご", "お") and toks[-2][1][0] == "名詞":
        return "".join(t[0] for t in toks[:-3]) + toks[-2][0] + "する必要がある"
    if toks[-1][1][0] == "動詞" and "終止形" in toks[-1][1][5]:
        return text
    return None


# --------------------------------------------------------------------------- candidates

@dataclass
class _Candidate:
    question: str
    start: int   # answer span (absolute)
    end: int
    kind: str
    score: float
    sentence: _Sentence


def _noun_run_bounds(toks: list, i: int) -> tuple[int, int]:
    """Token range [a, b) of the noun run ending at token i (inclusive)."""
    a = i
    while a - 1 >= 0 and (toks[a - 1][1][0] in ("名詞", "接頭辞") or toks[a - 1][1][:2] == ("接尾辞", "名詞的")
                          or toks[a - 1][0] in ("・", "ー")) and toks[a - 1][0] not in ("、", "。"):
        a -= 1
    return a, i + 1


def _np_before(s: _Sentence, k: int, allow_lists: bool = True) -> tuple[int, int] | None:
    """Character span (in s.text) of the noun phrase ending just before token k, with の-chains and
    lists (AとB, A、B, AやB); None when token k-1 is not a noun."""
    toks = s.tokens
    i = k - 1
    if i < 0 or toks[i][1][0] not in ("名詞", "接尾辞") and toks[i][0] not in ("）", ")", "」"):
        return None
    a = i
    while a - 1 >= 0:
        surf, pos = toks[a - 1][0], toks[a - 1][1]
        if pos[0] in ("名詞", "接頭辞", "接尾辞", "形状詞") or surf in ("・", "ー", "（", "(", "）", ")", "「", "」"):
            a -= 1
            continue
        if surf in ("の", "な") and a - 2 >= 0 and toks[a - 2][1][0] in ("名詞", "接尾辞", "形状詞"):
            a -= 1
            continue
        if allow_lists and surf in ("と", "や", "、", "及び", "および", "又は", "または", "か") and a - 2 >= 0 and toks[a - 2][1][0] in ("名詞", "接尾辞") \
                and pos[0] in ("助詞", "補助記号", "接続詞"):
            a -= 1
            continue
        break
    begin = toks[a][3]
    if a < len(toks) and a >= s.tokens.index(toks[a]) and begin < s.body:
        begin = s.body
    # never start inside brackets that close later
    span_text = s.text[begin:toks[i][4]]
    while span_text and span_text[0] in "、・）)」":
        begin += 1
        span_text = span_text[1:]
    if span_text.count("（") + span_text.count("(") != span_text.count("）") + span_text.count(")"):
        return None
    if span_text.count("「") != span_text.count("」"):
        return None
    if not span_text:
        return None
    return begin, toks[i][4]


def _question_from(s: _Sentence, span: tuple[int, int], wh: str, ending: tuple, drop_particle: bool = False) -> str | None:
    """Replace span (in s.text) by wh and make the predicate a polite question."""
    a, b = span
    cut, replacement, _style = ending
    if replacement is None or a < s.body:
        if replacement is None or a < s.body and s.text[s.body:a].strip():
            return None
        a = max(a, s.body)
    head = s.text[s.body:a]
    if b > cut:
        return None
    tail = s.text[b:cut]
    if drop_particle:
        if wh == "いつ" and tail.startswith(("には、", "には")):
            tail = tail[3:] if tail.startswith("には、") else tail[2:]
        elif wh == "いつ" and tail.startswith("に") and not tail.startswith(("にて", "にか")):
            tail = tail[1:]
        elif tail.startswith(("は、", "は")) and not tail.startswith("は、"):
            tail = tail[1:]
        elif tail.startswith("は、"):
            tail = tail[2:]
    if tail.startswith(("は", "も", "では", "には", "へは", "からは", "とは", "でも", "にも")) and wh not in ("いつ", "何時"):
        return None
    if _open_brackets(head) or _open_brackets(s.text[s.body:cut][len(head) + (b - a):], closing=True):
        return None  # the target is inside （…） or 「…」: an aside makes a poor question
    if len(head) + len(tail) > 40:
        head = _trim_clauses(s, a, head)
    if len(head) + len(tail) > 50:
        tail, replacement = _trim_tail(s, b, tail, replacement)
    question = head + wh + tail + replacement
    question = re.sub(r"[\s\u3000]+", "", question) if not re.search(r"[A-Za-z0-9][\s][A-Za-z0-9]", question) else question.strip()
    return question


def _open_brackets(text: str, closing: bool = False) -> bool:
    opens, closes = "（(「『【", "）)」』】"
    depth = 0
    for ch in text:
        if ch in opens:
            depth += 1
        elif ch in closes:
            depth -= 1
            if closing and depth < 0:
                return True
    return depth > 0 and not closing


def _trim_clauses(s: _Sentence, a: int, head: str) -> str:
    """Drop leading clauses of a long question (cut after the last 「…て、」「…が、」「…し、」 before the
    target), keeping the sentence topic 「Xは」 when the remaining clause has none."""
    toks = s.tokens
    boundary = None
    for j, t in enumerate(toks):
        if t[4] > a:
            break
        if t[0] == "、" and j > 0 and t[3] >= s.body:
            prev = toks[j - 1]
            if prev[1][0] in ("動詞", "助動詞", "形容詞") and "連用形" in prev[1][5] or prev[1][0] == "助詞" and prev[1][1] == "接続助詞":
                boundary = t[4]
    if boundary is None or boundary <= s.body:
        return head
    rest = s.text[boundary:a]
    wa = next((t for t in toks if t[0] == "は" and t[1][1] == "係助詞" and s.body < t[3] < boundary), None)
    topic = s.text[s.body:wa[4]] if wa else ""
    if topic and len(topic) <= 16 and "、" not in topic and "は" not in rest:
        return topic + rest
    return rest


def _trim_tail(s: _Sentence, b: int, tail: str, replacement: str) -> tuple[str, str]:
    """End a long question at the first clause boundary after the target: 「…気象現象で、…」 ->
    「…気象現象ですか？」, 「…をもたらし、…」 -> 「…をもたらしますか？」 (past when the sentence is)."""
    past = "まし" in replacement or "でし" in replacement
    for j, t in enumerate(s.tokens):
        if t[3] < b or t[0] != "、" or j == 0:
            continue
        prev = s.tokens[j - 1]
        if prev[3] < b:
            continue
        kept = tail[:prev[3] - b]
        if prev[1][0] == "助動詞" and prev[2] == "だ" and "連用形" in prev[1][5]:
            return kept, "でしたか？" if past else "ですか？"
        if prev[1][0] == "動詞" and prev[1][5] == "連用形-一般":
            return kept + prev[0], "ましたか？" if past else "ますか？"
        if prev[1][0] == "助詞" and prev[1][1] == "接続助詞":
            return tail, replacement  # 〜が、〜て、: the main clause is still to come
    return tail, replacement


def _when_targets(s: _Sentence, shadow: str):
    for m in _WHEN.finditer(shadow):
        core_a, core_b = m.span("core")
        core = shadow[core_a:core_b].strip()
        if not core or not re.search(r"\d|正午|[月火水木金土日]曜|時代|世紀", core):
            continue
        suffix = (m.group("suffix") or "").strip()
        time_only = bool(_CLOCK_ONLY.match(core))
        is_range = bool(m.group("range")) or ("から" in core)
        if is_range:
            if suffix in ("まで",):
                ans = (core_a, m.end("suffix"))
            else:
                ans = (core_a, core_b)
            wh = "何時から何時まで" if time_only and suffix == "まで" else ("いつ" if suffix != "から" else "いつから")
            q_span = (core_a, m.end("suffix") if suffix == "まで" else core_b)
        elif suffix == "にかけて":
            ans, wh, q_span = (core_a, core_b), "いつ", (core_a, m.end("suffix"))
        else:
            ans = (core_a, core_b)
            wh = ("何時" if time_only else "何年度" if re.fullmatch(_YEAR, core) and core.endswith("年度") else "いつ") + suffix
            q_span = (core_a, m.end())
        yield ans, q_span, wh


def _sentence_candidates(s: _Sentence, title: str, full: str) -> list[_Candidate]:
    out: list[_Candidate] = []
    text, toks = s.text, s.tokens
    base = s.start
    shadow = _shadow(text)

    def add(question: str | None, a: int, b: int, kind: str, bonus: float = 0.0) -> None:
        if not question or a >= b:
            return
        while a < b and text[a] in " \u3000、・":
            a += 1
        while b > a and text[b - 1] in " \u3000、。・":
            b -= 1
        if a >= b:
            return
        out.append(_Candidate(question, base + a, base + b, kind, KIND_WEIGHT[kind] + bonus, s))

    # 1. label lines: 「日時：10月5日（日）」
    m = _LABEL.match(text)
    if m:
        label = (m.group("l1") or m.group("l2")).strip()
        value_a, value_b = m.span("value")
        value = text[value_a:value_b]
        kind = _topic_kind(label)
        vshadow = _shadow(value)
        if kind is None:
            if _PHONE.search(vshadow):
                kind = "問い合わせ先"
            elif _WHEN.fullmatch(vshadow.strip("。 ")):
                kind = "いつ"
            elif _AMOUNT.fullmatch(vshadow.strip("。 ")):
                kind = "いくら"
        if kind == "問い合わせ先" and re.fullmatch(r"お?問い?合わ?せ|お?問合せ", label):
            label += "先"
        subject = label if not (title and _GENERIC_LABELS.match(label)) else f"{title}の{label}"
        if kind == "問い合わせ先":
            phone = _PHONE.search(vshadow)
            if phone and re.search(r"電話|TEL|tel|Tel|ＴＥＬ", label):
                add(f"{subject}は何番ですか？", value_a + phone.start(), value_a + phone.end(), kind, 0.4)
            elif phone:
                add(f"{subject}の電話番号は何番ですか？", value_a + phone.start(), value_a + phone.end(), kind, 0.4)
                org = re.match(r"[^\s(（:：、,]+", value)
                if org and org.end() < phone.start() and len(org.group(0)) >= 2 and not _PHONE.match(_shadow(org.group(0))):
                    add(f"{subject}はどこですか？", value_a, value_a + org.end(), kind, 0.3)
            else:
                add(f"{subject}はどこですか？", value_a, value_b, kind, 0.3)
        elif kind is not None and len(value) <= 80:
            wh = {"いつ": "いつ", "どこ": "どこ", "いくら": "いくら", "だれ": "だれ", "何が必要": "何",
                  "どうすれば": "どのような方法", "なぜ": "何", "いくつ": "何人" if re.search(r"\d+\s*[人名]", vshadow) else "いくつ"}[kind]
            add(f"{subject}は{wh}ですか？", value_a, value_b, kind, 0.3)
        elif kind is None and len(value) <= 40 and len(label) >= 2 and not _DEMONSTRATIVE.match(label):
            add(f"{subject}は何ですか？", value_a, value_b, "何", 0.0)
        return out

    ending = _ending(s)

    # 2. topic + copula: 「XはYです」
    wa = next((i for i, t in enumerate(toks) if t[0] == "は" and t[1][1] == "係助詞" and t[3] >= s.body), None)
    if wa is not None and wa > 0 and ending and ending[2] == "ask":
        topic = text[s.body:toks[wa][3]]
        if topic.endswith("と"):
            topic_core = topic[:-1]
        else:
            topic_core = topic
        y_a = toks[wa][4]
        while y_a < len(text) and text[y_a] in "、, \u3000":
            y_a += 1
        cut = ending[0]
        y_text = text[y_a:cut]
        y_b = cut
        for copula in ("となっております", "となっています", "になっています", "となります", "になります", "でございます", "です", "でした",
                       "ですか", "である", "であった", "だ"):
            if y_text.endswith(copula):
                y_b = cut - len(copula)
                break
        else:
            if not (ending[1] == "ですか？" and cut == y_a + len(y_text)):  # 体言止め
                y_b = -1
        if y_b > y_a and 0 < len(topic_core) <= 25 and "、" not in topic_core and not _DEMONSTRATIVE.match(topic_core) \
                and toks[wa - 1][1][0] in ("名詞", "接尾辞", "助詞") and not _GREETING.search(text):
            y = text[y_a:y_b]
            if y.endswith("のこと"):
                y_b -= 3
                y = text[y_a:y_b]
            kind = _topic_kind(topic_core)
            yshadow = _shadow(y)
            if kind is None:
                if _WHEN.fullmatch(yshadow):
                    kind = "いつ"
                elif _AMOUNT.fullmatch(yshadow) or _FREE.fullmatch(yshadow):
                    kind = "いくら"
            listing = re.fullmatch(r"(?:次|以下|下記)の(?:とおり|通り|もの|書類|ような.*|[^。]{0,6})", y)
            ans = (y_a, y_b)
            if listing:
                ans = _list_after(s, full)
            if ans and y and len(y) <= (80 if kind else 35) and not re.search(r"[ではがを]$", y):
                wh = {"いつ": "いつ", "どこ": "どこ", "いくら": "いくら", "だれ": "だれ", "何が必要": "何", "問い合わせ先": "どこ",
                      "どうすれば": "どのような方法", "なぜ": "何", "いくつ": "何人" if re.search(r"\d+\s*[人名]", yshadow) else "いくつ",
                      None: "何"}[kind]
                if kind == "だれ" and not re.search(r"(?:方|者|人|世帯|家庭|児童|子ども|子供|生徒|学生|住民|市民|区民|町民|村民|歳)(?:など|等)?$", y):
                    wh = "何"
                if kind is None and y.endswith(("こと", "もの", "ため", "よう", "予定", "とおり", "通り")):
                    kind = "skip"
                if kind != "skip":
                    sep = "とは" if topic.endswith("と") else "は"
                    if kind in (None, "なぜ") and len(y) > 30:
                        pass
                    else:
                        question = f"{topic_core}{sep}{wh}ですか？"
                        if ans is not None and (ans[0], ans[1]) != (y_a, y_b):
                            out.append(_Candidate(question, ans[0], ans[1], kind or "何",
                                                  KIND_WEIGHT[kind or "何"] + 0.3, s))
                        else:
                            add(question, y_a, y_b, kind or "何", 0.3)

    if ending is None or _GREETING.search(text):
        return out

    # 3. procedure: 「〜するには、…してください。」
    if ending[2] == "how":
        m = re.search(r"(?:には|場合は|場合には|ときは|時は|際は|際には|方は|ためには)[、,\s]*", text[s.body:])
        if m and m.start() > 1:
            cond = text[s.body:s.body + m.end()].rstrip("、, \u3000")
            instr_a = s.body + m.end()
            instr_b = ending[0]
            # the answer is the instruction up to the sentence end (without 。)
            b = len(text.rstrip("。.！!」』 \u3000"))
            if "、" not in cond[:-3] or len(cond) <= 30:
                if not _DEMONSTRATIVE.match(cond) and instr_b > instr_a:
                    add(f"{cond}どうすればよいですか？", instr_a, b, "どうすれば", 0.2 if len(cond) >= 6 else -0.5)

    # 4. reason: 「〜のため、…」
    m = re.search(r"(ため|ので)[、,]", text[s.body:])
    if m and m.start() > 1:
        reason_b = s.body + m.end(1)
        clause_a = text.rfind("、", s.body, s.body + m.start())
        reason_a = clause_a + 1 if clause_a >= 0 else s.body
        main = text[reason_b + 1:].rstrip("。.！!")
        plain = _plain_predicate(main) if main else None
        if plain and 3 <= reason_b - reason_a <= 50 and len(plain) >= 4 and not _DEMONSTRATIVE.match(plain):
            add(f"なぜ{plain}のですか？", reason_a, reason_b, "なぜ", 0.0)

    # 5. wh-substitution of facts
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for ans, q_span, wh in _when_targets(s, shadow):
        if ans[0] < s.body or not free(*q_span):
            continue
        taken.append(q_span)
        add(_question_from(s, q_span, wh, ending, drop_particle=wh.startswith(("いつ", "何時"))), ans[0], ans[1], "いつ")
    for m in _PHONE.finditer(shadow):
        if not free(*m.span()):
            continue
        taken.append(m.span())
        org = None
        left = text[s.body:m.start()]
        orgm = list(re.finditer(r"([^\s、。()（）:：「」]{2,20}?(?:" + "|".join(_PLACE_SUFFIXES[:22]) + r"))", left))
        if orgm:
            org = orgm[-1]
        subject = f"{org.group(1)}の電話番号" if org else (f"{title}の問い合わせ先の電話番号" if title else "問い合わせ先の電話番号")
        add(f"{subject}は何番ですか？", m.start(), m.end(), "問い合わせ先", 0.2 if org else 0.0)
        if org and re.search(r"問い?合わ?せ|問合せ|連絡", text):
            q = f"{title}の問い合わせ先はどこですか？" if title else "問い合わせ先はどこですか？"
            add(q, s.body + org.start(1), s.body + org.end(1), "問い合わせ先", 0.1)
    for m in _AMOUNT.finditer(shadow):
        if not free(*m.span()) or m.start() < s.body:
            continue
        taken.append(m.span())
        add(_question_from(s, m.span(), "いくら", ending), m.start(), m.end(), "いくら")
    for m in _COUNT.finditer(shadow):
        if not free(*m.span()) or m.start() < s.body:
            continue
        counter = m.group("counter")
        if counter in ("市", "区", "町", "村", "県", "代", "期", "号", "条", "位", "話", "巻") and not re.match(r"\d", m.group("num")):
            continue
        if m.group("num") in ("一", "1") or re.match(r"\s*(?:につき|あたり|当たり|ごと|毎)", shadow[m.end():]):
            continue  # 一つ/1人につき/1通あたり are units, not counts worth asking
        taken.append(m.span())
        wh = _COUNT_QUESTION.get(counter, "何" + counter)
        add(_question_from(s, m.span(), wh, ending), m.start(), m.end(), "いくつ", -0.1)

    def needs_what(k: int) -> bool:
        rest = text[toks[k][4]:]
        return not (toks[k][0] == "が" and re.match(r"必要", rest) or toks[k][0] == "を" and re.match(
            r"(?:お持ち|持参|ご持参|持って|持ち|ご用意|用意|添付|ご提出|提出)", rest))

    # places, persons and things to bring (token based)
    for k, (surf, pos, lemma, tb, te) in enumerate(toks):
        if tb < s.body:
            continue
        if pos[0] == "助詞" and surf in ("で", "にて", "に", "へ", "から") and k > 0:
            span = _np_before(s, k, allow_lists=False)
            if not span or not free(*span):
                continue
            np_text = text[span[0]:span[1]]
            np_toks = [t for t in toks if t[3] >= span[0] and t[4] <= span[1]]
            is_place = np_text.endswith(_PLACE_SUFFIXES) or any(t[1][1] == "固有名詞" and t[1][2] == "地名" for t in np_toks[-2:])
            if surf in ("に", "から") and not (np_text.endswith(_PLACE_SUFFIXES[:40]) or np_toks and np_toks[-1][1][2] == "地名"):
                continue
            if not is_place or len(np_text) < 2 or _WHEN.fullmatch(_shadow(np_text)) or re.search(r"\d", np_text) and len(np_text) < 4:
                continue
            if surf == "で" and pos[1] != "格助詞":
                continue
            if np_text in ("前", "付近", "周辺", "地域", "地方", "国", "市", "区", "町", "村", "県", "都", "府", "道", "施設", "受付", "窓口"):
                continue
            taken.append(span)
            add(_question_from(s, span, "どこ", ending), span[0], span[1], "どこ")
        elif pos[1] == "固有名詞" and pos[2] == "人名" and (k + 1 == len(toks) or toks[k + 1][1][2] != "人名"):
            a = k
            while a - 1 >= 0 and toks[a - 1][1][2] == "人名" and toks[a - 1][3] >= s.body:
                a -= 1
            b = k + 1
            if b < len(toks) and toks[b][0] in _PERSON_SUFFIXES:
                b += 1
            span = (toks[a][3], toks[b - 1][4])
            nxt = toks[b][0] if b < len(toks) else ""
            if not free(*span) or nxt in ("は", "も", "") or toks[b][1][0] not in ("助詞",) or span[1] - span[0] < 2:
                continue
            taken.append(span)
            add(_question_from(s, span, "だれ", ending), span[0], span[1], "だれ")
        elif surf in ("を", "が") and pos[0] == "助詞" and k + 1 < len(toks) and not needs_what(k):
            rest = text[te:]
            needed = surf == "が" and re.match(r"必要(?:です|となります|になります|となる|になる|だ|である)", rest)
            carry = surf == "を" and re.match(r"(?:お持ち|持参|ご持参|持って|持ち|ご用意|用意|添付|ご提出|提出|お持ちいただ)", rest) \
                and not re.match(r"(?:お持ちの|お持ちでな|持っている|持ってい|持ちの|持たな|提出した|提出済)", rest)
            if not (needed or carry):
                continue
            span = _np_before(s, k)
            if not span or not free(*span) or span[1] - span[0] < 2:
                continue
            np_text = text[span[0]:span[1]]
            if _DEMONSTRATIVE.match(np_text) or np_text in ("もの", "こと", "書類", "手続き"):
                continue
            taken.append(span)
            question = _question_from(s, span, "何", ending)
            if question and not re.search(r"[\u3400-\u9fffァ-ヺ]", question.replace("何", "", 1)[:-3]) and title:
                question = f"{title}には{question}"
            add(question, span[0], span[1], "何が必要", 0.0)

    # general noun phrases: proper nouns (だれ/どこ/何) and objects/subjects (何), lowest rank
    wa_at = next((t[4] for t in toks if t[0] == "は" and t[1][1] == "係助詞" and t[3] >= s.body), None)
    for k, (surf, pos, lemma, tb, te) in enumerate(toks):
        if tb < s.body or k == 0 or pos[0] != "助詞" or surf not in ("が", "を", "に", "と", "で", "から", "へ", "の", "より"):
            continue
        if surf in ("で", "に", "と") and pos[1] != "格助詞" or surf == "が" and pos[1] != "格助詞":
            continue
        a, b = _noun_run_bounds(toks, k - 1)
        if toks[k - 1][1][0] not in ("名詞", "接尾辞") or toks[a][3] < s.body:
            continue
        if wa_at is not None and toks[a][3] < wa_at:
            continue  # inside the topic (「何をお持ちの方は…」)
        run = toks[a:k]
        span = (run[0][3], run[-1][4])
        if surf in ("を", "が") and not any(t[1][1] == "固有名詞" for t in run):
            wider = _np_before(s, k)
            if wider and wider[0] >= s.body and (wa_at is None or wider[0] >= wa_at):
                span = wider
        np_text = text[span[0]:span[1]]
        if not free(*span) or len(np_text) < 2 or re.search(r"\d", np_text) or _DEMONSTRATIVE.match(np_text):
            continue
        if any(t[1][1] in ("数詞", "代名詞") or t[1][2] == "副詞可能" for t in run) or np_text in _FORMAL_NOUNS:
            continue
        proper = [t for t in run if t[1][1] == "固有名詞"]
        if proper:
            if any(t[1][2] == "人名" for t in proper):
                wh, kind = "だれ", "だれ"
            elif run[-1][1][2] == "地名" or proper[-1][1][2] == "地名" and np_text.endswith(_PLACE_SUFFIXES):
                wh, kind = "どこ", "どこ"
            else:
                wh, kind = "何", "何"
            bonus = 0.0
        elif surf in ("を", "が") and len(np_text) >= 2:
            wh, kind, bonus = "何", "何", -0.3
        else:
            continue
        taken.append(span)
        add(_question_from(s, span, wh, ending), span[0], span[1], kind, bonus)
    return out


_FORMAL_NOUNS = frozenset({"こと", "もの", "ため", "よう", "方", "とき", "ところ", "場合", "手続き", "書類", "必要", "ほか", "他",
                           "一部", "全て", "すべて", "一方", "以上", "以下", "上記", "下記", "次", "際", "中", "間", "前", "後"})


def _list_after(s: _Sentence, full: str) -> tuple[int, int] | None:
    """Span of the bulleted lines that follow sentence s (「必要な書類は次のとおりです。」), absolute offsets."""
    pos = s.start + len(s.text)
    nl = full.find("\n", pos)
    if nl < 0:
        return None
    first = last = None
    offset = nl + 1
    for line in full[nl + 1:].splitlines(keepends=True):
        stripped = line.strip()
        m = re.match(r"^[\s\u3000]*(?:[・●○■□◆◇▪◎\-＊*]|\(?\d{1,2}[).．]|[（(]\d{1,2}[)）]|[①-⑳])[\s\u3000]*", line)
        if not stripped:
            if first is None:
                offset += len(line)
                continue
            break
        if not m:
            break
        content_a = offset + m.end()
        content_b = offset + len(line.rstrip("\r\n \u3000。"))
        if content_b > content_a:
            if first is None:
                first = content_a
            last = content_b
        offset += len(line)
    if first is None:
        return None
    return first, last


# --------------------------------------------------------------------------- selection

def _acceptable(c: _Candidate, text: str) -> bool:
    q = c.question
    answer = text[c.start:c.end]
    if not q.endswith(("ですか？", "ますか？")) or not (5 <= len(q) <= 110) or not answer.strip():
        return False
    if len(answer) > 200:
        return False
    # the question must keep some content besides the wh-word, and must not contain the answer
    content = re.sub(r"いつ|何時|どこ|だれ|いくら|いくつ|何|どのような方法|なぜ|ですか？|ますか？|よい|[はがをにでのと、]", "", q)
    if len(content) < 2:
        return False
    if len(_norm(answer)) >= 2 and _norm(answer) in _norm(q):
        return False
    if _DEMONSTRATIVE.match(q) or re.search(r"[（(][^）)]*$", q):
        return False
    if q.count("「") != q.count("」") or q.count("（") != q.count("）"):
        return False
    return True


def _score(c: _Candidate) -> float:
    score = c.score
    answer_len = c.end - c.start
    if len(c.question) > 60:
        score -= 0.5
    if len(c.question) > 85:
        score -= 0.7
    if answer_len > 40 and c.kind not in ("どうすれば",):
        score -= 0.4
    return score


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter > 0 and inter >= 0.5 * union


def generate_pairs(text: str, n: int = 10) -> PairList:
    """Up to n question/answer pairs from `text`, best first; fewer (with .note) when the text is thin."""
    n = max(0, min(int(n), MAX_COUNT))
    if not text or not text.strip() or n == 0:
        return PairList([], n, "本文から質問を作れませんでした。" if n else "")
    sentences = _locate_sentences(text)
    for s in sentences:
        _tokenize(s)
    title = _title(sentences)
    candidates: list[_Candidate] = []
    for s in sentences:
        if s.index == 0 and title and len(sentences) > 1:
            continue
        for c in _sentence_candidates(s, title, text):
            if text[c.start:c.end] and _acceptable(c, text):
                c.score = _score(c)
                candidates.append(c)

    # greedy selection: best score, penalised for sentences and paragraphs already used
    chosen: list[_Candidate] = []
    keys: set[str] = set()
    per_sentence: dict[int, int] = {}
    per_para: dict[int, int] = {}
    pool = sorted(candidates, key=lambda c: (-c.score, c.start))
    while pool and len(chosen) < n:
        best_i, best_value = -1, float("-inf")
        for i, c in enumerate(pool):
            value = c.score - 1.2 * per_sentence.get(c.sentence.index, 0) - 0.3 * per_para.get(c.sentence.para, 0)
            if value > best_value:
                best_i, best_value = i, value
        c = pool.pop(best_i)
        key = _question_key(c.question)
        if key in keys or any(_overlap((c.start, c.end), (d.start, d.end)) for d in chosen):
            continue
        keys.add(key)
        chosen.append(c)
        per_sentence[c.sentence.index] = per_sentence.get(c.sentence.index, 0) + 1
        per_para[c.sentence.para] = per_para.get(c.sentence.para, 0) + 1

    pairs = [QAPair(c.question, text[c.start:c.end], c.sentence.text, c.start, c.end, c.kind) for c in chosen]
    note = ""
    if len(pairs) < n:
        note = (f"本文から作成できた質問は {len(pairs)} 問です（{n} 問の依頼）。" if pairs
                else "本文から質問を作れませんでした。日時・場所・金額・手続きなどが書かれた文章を貼り付けてください。")
    return PairList(pairs, n, note)


# --------------------------------------------------------------------------- checks (also for the LLM path)

_COPULA_TAIL = re.compile(r"(?:です|でした|である|だ|ます|となります|になります|でございます)?[。.！!]*$")


def _answer_forms(answer: str) -> list[str]:
    forms = [answer]
    a = _norm(answer).strip("「」『』\"'")
    forms.append(a)
    b = _COPULA_TAIL.sub("", a)
    forms.append(b)
    if "は" in b:
        forms.append(b.split("は", 1)[1].lstrip("、,"))
    return [f for f in forms if f]


def _supported(answer: str, norm_text: str, text: str) -> bool:
    forms = _answer_forms(answer)
    if any(_norm(f) in norm_text for f in forms):
        return True
    # a list whose items all occur (「本人確認書類と印鑑」 vs 「本人確認書類、印鑑」)
    parts = [p for p in re.split(r"[、,・/／]|と|や|及び|および|又は|または|\s", _norm(forms[-1])) if len(p) >= 2]
    if len(parts) >= 2 and all(p in norm_text for p in parts):
        return True
    return False


def check_pairs(pairs: list[QAPair], text: str) -> list[str]:
    """Problems of generated pairs (Japanese, one line each): unsupported answers, mismatched spans,
    non-questions and duplicates (same question text or same answer span)."""
    problems: list[str] = []
    norm_text = _norm(text)
    seen_questions: dict[str, int] = {}
    seen_spans: dict[tuple[int, int], int] = {}
    for i, pair in enumerate(pairs, 1):
        q, a = (pair.question or "").strip(), (pair.answer or "").strip()
        label = f"Q{i}"
        if not q:
            problems.append(f"{label}: 質問が空です。")
        elif not re.search(r"[?？]$|か[。]?$", q):
            problems.append(f"{label}: 質問が疑問文になっていません: {q}")
        if not a:
            problems.append(f"{label}: 回答が空です。")
            continue
        if pair.start is not None and pair.start >= 0 and pair.end is not None and pair.end >= 0:
            if text[pair.start:pair.end] != pair.answer:
                problems.append(f"{label}: 回答の位置（{pair.start}〜{pair.end}）が本文と一致しません。")
        if not _supported(a, norm_text, text):
            missing = []
            for fact in extract_facts(a):
                if fact.kind != "proper_noun" and _norm(fact.text) not in norm_text:
                    missing.append(fact.text)
            if missing:
                problems.append(f"{label}: 回答の数値・日付などが本文にありません（{'、'.join(missing)}）: {a}")
            else:
                problems.append(f"{label}: 回答が本文にありません（根拠を確認してください）: {a}")
        if pair.evidence and _norm(pair.evidence) not in norm_text:
            problems.append(f"{label}: 根拠の文が本文にありません。")
        key = _question_key(q)
        if key and key in seen_questions:
            problems.append(f"{label}: 質問が Q{seen_questions[key]} と重複しています。")
        elif key:
            seen_questions[key] = i
        span = _span_of(pair, text)
        if span is not None:
            if span in seen_spans:
                problems.append(f"{label}: 回答が Q{seen_spans[span]} と同じ箇所です。")
            else:
                seen_spans[span] = i
    return problems


def _span_of(pair: QAPair, text: str) -> tuple[int, int] | None:
    """The answer's span: its offsets, else its only occurrence in the text (None if not unique)."""
    if pair.start is not None and pair.start >= 0 and pair.end is not None and pair.end > pair.start:
        return pair.start, pair.end
    answer = (pair.answer or "").strip().rstrip("。")
    if len(answer) < 2:
        return None
    at = text.find(answer)
    if at < 0 or text.find(answer, at + 1) >= 0:
        return None
    return at, at + len(answer)


# --------------------------------------------------------------------------- requested count

_KANJI_VALUES = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
                 "百": 100, "两": 2, "壱": 1, "弐": 2, "参": 3}
_NATIVE = {"ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いつつ": 5, "むっつ": 6, "ななつ": 7, "やっつ": 8,
           "ここのつ": 9, "とお": 10}
_COUNT_RE = re.compile(
    r"(?P<num>\d{1,4}|[〇零一二三四五六七八九十百壱弐参]{1,4})\s*(?P<counter>問|個|つ|件|題|組|セット|ペア|コ|本|項目|点)"
    r"|(?P<native>ひとつ|ふたつ|みっつ|よっつ|いつつ|むっつ|ななつ|やっつ|ここのつ|とお(?=[作つくだお]|$))")
_CONTEXT_RE = re.compile(r"質問|問題|Q\s*&?\s*A|QA|FAQ|問|クイズ|作|ください|お願い|生成|出して|つくって", re.IGNORECASE)


def _kanji_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for ch in text:
        value = _KANJI_VALUES.get(ch)
        if value is None:
            return None
        if value in (10, 100):
            total += (digit or 1) * value
            digit = 0
        else:
            digit = digit * 10 + value if digit else value
    return total + digit


def parse_requested_count(message: str) -> int | None:
    """「20問作って」 -> 20, 「Q&Aを5つ」 -> 5, 「質問を三つ」 -> 3, 「ひとつ」 -> 1; capped at 50; None if absent."""
    if not message:
        return None
    text = unicodedata.normalize("NFKC", message)
    best: tuple[int, int] | None = None  # (rank, value); lower rank wins
    for m in _COUNT_RE.finditer(text):
        if m.group("native"):
            value = _NATIVE[m.group("native")]
            counter = "つ"
        else:
            value = _kanji_number(m.group("num"))
            counter = m.group("counter")
        if not value:
            continue
        before = text[max(0, m.start() - 12):m.start()]
        after = text[m.end():m.end() + 8]
        if re.search(r"[月日年時分円]$", before.strip()) and counter in ("つ", "個", "件"):
            continue
        rank = 0 if counter in ("問", "題") or re.search(r"質問|Q\s*&?\s*A|QA|FAQ|問題", before, re.I) else (
            1 if _CONTEXT_RE.search(before + after) or len(text) <= 20 else 2)
        if rank == 2:
            continue
        if best is None or rank < best[0]:
            best = (rank, value)
    if best is None:
        return None
    return min(best[1], MAX_COUNT)


# --------------------------------------------------------------------------- FAQ CSV

_STOP_WORDS = frozenset({"方", "こと", "もの", "ため", "場合", "何", "いつ", "どこ", "だれ", "誰", "いくら", "いくつ", "よう", "何時",
                         "何人", "方法", "とき", "際", "中", "等", "など", "番", "ほう", "何番"})


def _keywords(question: str, limit: int = 6) -> list[str]:
    words: list[str] = []
    for m in tokenizer("C").tokenize(question):
        pos = m.part_of_speech()
        surface = m.surface()
        if pos[0] != "名詞" or pos[1] in ("数詞",) or pos[1] == "普通名詞" and pos[2] == "副詞可能" and len(surface) < 2:
            continue
        if surface in _STOP_WORDS or surface.startswith("何") or len(surface) < 2 and not re.match(r"[\u3400-\u9fff]", surface):
            continue
        if surface not in words:
            words.append(surface)
    return words[:limit]


def to_faq_csv(pairs: list[QAPair], source_name: str, category: str = "") -> str:
    """CSV text for the FAQ import (header id,質問,回答,カテゴリ,キーワード,URL,更新日); no BOM.

    id is qa-<10 hex of sha1(source name + question)>, so the same question from two notices does not
    collide; URL is the source name when it is a URL; 更新日 is today (ISO)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FAQ_HEADER)
    today = dt.date.today().isoformat()
    url = source_name if re.match(r"https?://", source_name or "") else ""
    for pair in pairs:
        digest = hashlib.sha1(unicodedata.normalize("NFKC", f"{source_name}\n{pair.question}").strip().encode("utf-8")).hexdigest()[:10]
        writer.writerow([f"qa-{digest}", pair.question, pair.answer, category, "、".join(_keywords(pair.question)), url, today])
    return out.getvalue()
