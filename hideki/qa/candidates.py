"""Question candidates from one sentence: label lines, topic + copula, procedures, reasons, wh-substitution of
facts (when, phone, amount, count, place, person, things needed) and general noun phrases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hideki.japanese.patterns import AMOUNT_SPAN, CLOCK_ONLY, DECIMAL, KANJI_NUMBER, PHONE, WHEN, YEAR_SPAN
from hideki.qa.predicates import plain_predicate, question_ending
from hideki.qa.text import DEMONSTRATIVE, GREETING, LABEL, Sentence, shadow

# kinds, most informative first (facts > procedures > general)
KIND_WEIGHT = {
    "いつ": 3.0, "いくら": 3.0, "問い合わせ先": 3.0, "どこ": 2.8, "いくつ": 2.6, "だれ": 2.6,
    "何が必要": 2.4, "どうすれば": 2.2, "なぜ": 1.8, "何": 1.2,
}


_FREE = re.compile(r"無料|無償")
_COUNTERS = ("か所", "箇所", "カ所", "ヶ所", "ケ所", "か月", "ヶ月", "カ月", "ケ月", "種類", "世帯", "週間", "日間", "年間", "時間", "分間",
             "人", "名", "件", "回", "個", "枚", "通", "部", "冊", "台", "本", "歳", "才", "つ", "校", "店舗", "頭", "匹", "羽", "点",
             "問", "袋", "キロ", "センチ", "メートル", "km", "kg", "cm", "m", "%", "パーセント", "割", "倍", "階", "ページ", "社", "団体",
             "チーム", "組", "区", "市", "町", "村", "県", "か国", "カ国", "ヵ国", "ヶ国", "駅", "巻", "話", "曲", "作品", "種", "基", "機", "隻", "両", "票", "期", "代", "位", "号", "条", "錠", "科", "点")
_COUNT = re.compile(r"(?P<num>" + DECIMAL + r"|" + KANJI_NUMBER + r")\s*(?P<counter>" + "|".join(
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


def _topic_kind(topic: str) -> str | None:
    for pattern, kind in _TOPIC_KINDS:
        if pattern.search(topic):
            return kind
    return None


@dataclass
class Candidate:
    question: str
    start: int   # answer span (absolute)
    end: int
    kind: str
    score: float
    sentence: Sentence


def _noun_run_bounds(toks: list, i: int) -> tuple[int, int]:
    """Token range [a, b) of the noun run ending at token i (inclusive)."""
    a = i
    while a - 1 >= 0 and (toks[a - 1][1][0] in ("名詞", "接頭辞") or toks[a - 1][1][:2] == ("接尾辞", "名詞的")
                          or toks[a - 1][0] in ("・", "ー")) and toks[a - 1][0] not in ("、", "。"):
        a -= 1
    return a, i + 1


def _np_before(s: Sentence, k: int, allow_lists: bool = True) -> tuple[int, int] | None:
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


def _question_from(s: Sentence, span: tuple[int, int], wh: str, ending: tuple, drop_particle: bool = False) -> str | None:
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


def _trim_clauses(s: Sentence, a: int, head: str) -> str:
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


def _trim_tail(s: Sentence, b: int, tail: str, replacement: str) -> tuple[str, str]:
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


def _when_targets(s: Sentence, text_shadow: str):
    for m in WHEN.finditer(text_shadow):
        core_a, core_b = m.span("core")
        core = text_shadow[core_a:core_b].strip()
        if not core or not re.search(r"\d|正午|[月火水木金土日]曜|時代|世紀", core):
            continue
        suffix = (m.group("suffix") or "").strip()
        time_only = bool(CLOCK_ONLY.match(core))
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
            wh = ("何時" if time_only else "何年度" if re.fullmatch(YEAR_SPAN, core) and core.endswith("年度") else "いつ") + suffix
            q_span = (core_a, m.end())
        yield ans, q_span, wh


class _Found:
    """The candidates of one sentence, and the spans (offsets in the sentence) a wh-question already asks about."""

    def __init__(self, s: Sentence) -> None:
        self.s = s
        self.candidates: list[Candidate] = []
        self.taken: list[tuple[int, int]] = []

    def add(self, question: str | None, a: int, b: int, kind: str, bonus: float = 0.0) -> None:
        """A candidate whose answer is s.text[a:b] without the spaces and punctuation around it."""
        text = self.s.text
        if not question or a >= b:
            return
        while a < b and text[a] in " \u3000、・":
            a += 1
        while b > a and text[b - 1] in " \u3000、。・":
            b -= 1
        if a >= b:
            return
        self.candidates.append(Candidate(question, self.s.start + a, self.s.start + b, kind, KIND_WEIGHT[kind] + bonus, self.s))

    def free(self, a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in self.taken)


def sentence_candidates(s: Sentence, title: str, full: str) -> list[Candidate]:
    """The question candidates of sentence s; their order breaks ties in the selection, so the steps run
    in this order: a label line alone, else topic + copula, procedure, reason, then wh-substitution of
    dates and times, phone numbers, amounts, counts, places / persons / things needed, other noun phrases."""
    found = _Found(s)
    label = LABEL.match(s.text)
    if label:
        _label_line(found, label, title)
        return found.candidates
    ending = question_ending(s)
    _topic_and_copula(found, ending, full)
    if ending is None or GREETING.search(s.text):
        return found.candidates
    _procedure(found, ending)
    _reason(found)
    text_shadow = shadow(s.text)
    _when_questions(found, ending, text_shadow)
    _phone_questions(found, title, text_shadow)
    _amount_questions(found, ending, text_shadow)
    _count_questions(found, ending, text_shadow)
    _place_person_needed_questions(found, ending, title)
    _noun_phrase_questions(found, ending)
    return found.candidates


def _label_line(found: _Found, m: re.Match[str], title: str) -> None:
    """「日時：10月5日（日）」 -> 「(title の)日時はいつですか？」; the kind comes from the label, else the value."""
    text = found.s.text
    add = found.add
    label = (m.group("l1") or m.group("l2")).strip()
    value_a, value_b = m.span("value")
    value = text[value_a:value_b]
    kind = _topic_kind(label)
    vshadow = shadow(value)
    if kind is None:
        if PHONE.search(vshadow):
            kind = "問い合わせ先"
        elif WHEN.fullmatch(vshadow.strip("。 ")):
            kind = "いつ"
        elif AMOUNT_SPAN.fullmatch(vshadow.strip("。 ")):
            kind = "いくら"
    if kind == "問い合わせ先" and re.fullmatch(r"お?問い?合わ?せ|お?問合せ", label):
        label += "先"
    subject = label if not (title and _GENERIC_LABELS.match(label)) else f"{title}の{label}"
    if kind == "問い合わせ先":
        phone = PHONE.search(vshadow)
        if phone and re.search(r"電話|TEL|tel|Tel|ＴＥＬ", label):
            add(f"{subject}は何番ですか？", value_a + phone.start(), value_a + phone.end(), kind, 0.4)
        elif phone:
            add(f"{subject}の電話番号は何番ですか？", value_a + phone.start(), value_a + phone.end(), kind, 0.4)
            org = re.match(r"[^\s(（:：、,]+", value)
            if org and org.end() < phone.start() and len(org.group(0)) >= 2 and not PHONE.match(shadow(org.group(0))):
                add(f"{subject}はどこですか？", value_a, value_a + org.end(), kind, 0.3)
        else:
            add(f"{subject}はどこですか？", value_a, value_b, kind, 0.3)
    elif kind is not None and len(value) <= 80:
        wh = {"いつ": "いつ", "どこ": "どこ", "いくら": "いくら", "だれ": "だれ", "何が必要": "何",
              "どうすれば": "どのような方法", "なぜ": "何", "いくつ": "何人" if re.search(r"\d+\s*[人名]", vshadow) else "いくつ"}[kind]
        add(f"{subject}は{wh}ですか？", value_a, value_b, kind, 0.3)
    elif kind is None and len(value) <= 40 and len(label) >= 2 and not DEMONSTRATIVE.match(label):
        add(f"{subject}は何ですか？", value_a, value_b, "何", 0.0)


def _topic_and_copula(found: _Found, ending: tuple | None, full: str) -> None:
    """「XはYです」 -> 「Xは(いつ/どこ/何…)ですか？」 with Y as the answer (or the list that follows a 次のとおり)."""
    s = found.s
    text, toks = s.text, s.tokens
    wa = next((i for i, t in enumerate(toks) if t[0] == "は" and t[1][1] == "係助詞" and t[3] >= s.body), None)
    if not (wa is not None and wa > 0 and ending and ending[2] == "ask"):
        return
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
    if not (y_b > y_a and 0 < len(topic_core) <= 25 and "、" not in topic_core and not DEMONSTRATIVE.match(topic_core)
            and toks[wa - 1][1][0] in ("名詞", "接尾辞", "助詞") and not GREETING.search(text)):
        return
    y = text[y_a:y_b]
    if y.endswith("のこと"):
        y_b -= 3
        y = text[y_a:y_b]
    kind = _topic_kind(topic_core)
    yshadow = shadow(y)
    if kind is None:
        if WHEN.fullmatch(yshadow):
            kind = "いつ"
        elif AMOUNT_SPAN.fullmatch(yshadow) or _FREE.fullmatch(yshadow):
            kind = "いくら"
    listing = re.fullmatch(r"(?:次|以下|下記)の(?:とおり|通り|もの|書類|ような.*|[^。]{0,6})", y)
    ans = (y_a, y_b)
    if listing:
        ans = _list_after(s, full)
    if not (ans and y and len(y) <= (80 if kind else 35) and not re.search(r"[ではがを]$", y)):
        return
    wh = {"いつ": "いつ", "どこ": "どこ", "いくら": "いくら", "だれ": "だれ", "何が必要": "何", "問い合わせ先": "どこ",
          "どうすれば": "どのような方法", "なぜ": "何", "いくつ": "何人" if re.search(r"\d+\s*[人名]", yshadow) else "いくつ",
          None: "何"}[kind]
    if kind == "だれ" and not re.search(r"(?:方|者|人|世帯|家庭|児童|子ども|子供|生徒|学生|住民|市民|区民|町民|村民|歳)(?:など|等)?$", y):
        wh = "何"
    if kind is None and y.endswith(("こと", "もの", "ため", "よう", "予定", "とおり", "通り")):
        return
    if kind in (None, "なぜ") and len(y) > 30:
        return
    sep = "とは" if topic.endswith("と") else "は"
    question = f"{topic_core}{sep}{wh}ですか？"
    if ans is not None and (ans[0], ans[1]) != (y_a, y_b):
        found.candidates.append(Candidate(question, ans[0], ans[1], kind or "何", KIND_WEIGHT[kind or "何"] + 0.3, s))
    else:
        found.add(question, y_a, y_b, kind or "何", 0.3)


def _procedure(found: _Found, ending: tuple) -> None:
    """「〜するには、…してください。」 -> 「〜するにはどうすればよいですか？」, the instruction as the answer."""
    s = found.s
    text = s.text
    if ending[2] != "how":
        return
    m = re.search(r"(?:には|場合は|場合には|ときは|時は|際は|際には|方は|ためには)[、,\s]*", text[s.body:])
    if m and m.start() > 1:
        cond = text[s.body:s.body + m.end()].rstrip("、, \u3000")
        instr_a = s.body + m.end()
        instr_b = ending[0]
        # the answer is the instruction up to the sentence end (without 。)
        b = len(text.rstrip("。.！!」』 \u3000"))
        if "、" not in cond[:-3] or len(cond) <= 30:
            if not DEMONSTRATIVE.match(cond) and instr_b > instr_a:
                found.add(f"{cond}どうすればよいですか？", instr_a, b, "どうすれば", 0.2 if len(cond) >= 6 else -0.5)


def _reason(found: _Found) -> None:
    """「工事のため、休館します。」 -> 「なぜ休館するのですか？」, the reason clause as the answer."""
    s = found.s
    text = s.text
    m = re.search(r"(ため|ので)[、,]", text[s.body:])
    if m and m.start() > 1:
        reason_b = s.body + m.end(1)
        clause_a = text.rfind("、", s.body, s.body + m.start())
        reason_a = clause_a + 1 if clause_a >= 0 else s.body
        main = text[reason_b + 1:].rstrip("。.！!")
        plain = plain_predicate(main) if main else None
        if plain and 3 <= reason_b - reason_a <= 50 and len(plain) >= 4 and not DEMONSTRATIVE.match(plain):
            found.add(f"なぜ{plain}のですか？", reason_a, reason_b, "なぜ", 0.0)


def _when_questions(found: _Found, ending: tuple, text_shadow: str) -> None:
    """Dates and times (いつ, 何時, 何年度, いつから, 何時から何時まで)."""
    s = found.s
    for ans, q_span, wh in _when_targets(s, text_shadow):
        if ans[0] < s.body or not found.free(*q_span):
            continue
        found.taken.append(q_span)
        found.add(_question_from(s, q_span, wh, ending, drop_particle=wh.startswith(("いつ", "何時"))), ans[0], ans[1], "いつ")


def _phone_questions(found: _Found, title: str, text_shadow: str) -> None:
    """Phone numbers (「〇〇課の電話番号は何番ですか？」) and the office they belong to."""
    s = found.s
    text = s.text
    for m in PHONE.finditer(text_shadow):
        if not found.free(*m.span()):
            continue
        found.taken.append(m.span())
        org = None
        left = text[s.body:m.start()]
        orgm = list(re.finditer(r"([^\s、。()（）:：「」]{2,20}?(?:" + "|".join(_PLACE_SUFFIXES[:22]) + r"))", left))
        if orgm:
            org = orgm[-1]
        subject = f"{org.group(1)}の電話番号" if org else (f"{title}の問い合わせ先の電話番号" if title else "問い合わせ先の電話番号")
        found.add(f"{subject}は何番ですか？", m.start(), m.end(), "問い合わせ先", 0.2 if org else 0.0)
        if org and re.search(r"問い?合わ?せ|問合せ|連絡", text):
            q = f"{title}の問い合わせ先はどこですか？" if title else "問い合わせ先はどこですか？"
            found.add(q, s.body + org.start(1), s.body + org.end(1), "問い合わせ先", 0.1)


def _amount_questions(found: _Found, ending: tuple, text_shadow: str) -> None:
    """Amounts of money (いくら)."""
    s = found.s
    for m in AMOUNT_SPAN.finditer(text_shadow):
        if not found.free(*m.span()) or m.start() < s.body:
            continue
        found.taken.append(m.span())
        found.add(_question_from(s, m.span(), "いくら", ending), m.start(), m.end(), "いくら")


def _count_questions(found: _Found, ending: tuple, text_shadow: str) -> None:
    """Counts with a counter (何人, 何回, いくつ …), not units such as 1人につき."""
    s = found.s
    for m in _COUNT.finditer(text_shadow):
        if not found.free(*m.span()) or m.start() < s.body:
            continue
        counter = m.group("counter")
        if counter in ("市", "区", "町", "村", "県", "代", "期", "号", "条", "位", "話", "巻") and not re.match(r"\d", m.group("num")):
            continue
        if m.group("num") in ("一", "1") or re.match(r"\s*(?:につき|あたり|当たり|ごと|毎)", text_shadow[m.end():]):
            continue  # 一つ/1人につき/1通あたり are units, not counts worth asking
        found.taken.append(m.span())
        wh = _COUNT_QUESTION.get(counter, "何" + counter)
        found.add(_question_from(s, m.span(), wh, ending), m.start(), m.end(), "いくつ", -0.1)


def _followed_by_need(text: str, toks: list, k: int) -> bool:
    """Particle k introduces something needed: 〜が必要 / 〜をお持ち・持参・用意・提出."""
    rest = text[toks[k][4]:]
    return bool(toks[k][0] == "が" and re.match(r"必要", rest) or toks[k][0] == "を" and re.match(
        r"(?:お持ち|持参|ご持参|持って|持ち|ご用意|用意|添付|ご提出|提出)", rest))


def _place_person_needed_questions(found: _Found, ending: tuple, title: str) -> None:
    """Token by token: places before で/にて/に/へ/から (どこ), person names (だれ), things to bring or
    needed (何)."""
    s = found.s
    text, toks = s.text, s.tokens
    add, free, taken = found.add, found.free, found.taken
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
            if not is_place or len(np_text) < 2 or WHEN.fullmatch(shadow(np_text)) or re.search(r"\d", np_text) and len(np_text) < 4:
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
        elif surf in ("を", "が") and pos[0] == "助詞" and k + 1 < len(toks) and _followed_by_need(text, toks, k):
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
            if DEMONSTRATIVE.match(np_text) or np_text in ("もの", "こと", "書類", "手続き"):
                continue
            taken.append(span)
            question = _question_from(s, span, "何", ending)
            if question and not re.search(r"[\u3400-\u9fffァ-ヺ]", question.replace("何", "", 1)[:-3]) and title:
                question = f"{title}には{question}"
            add(question, span[0], span[1], "何が必要", 0.0)


def _noun_phrase_questions(found: _Found, ending: tuple) -> None:
    """General noun phrases, lowest rank: proper nouns (だれ/どこ/何) and objects or subjects (何)."""
    s = found.s
    text, toks = s.text, s.tokens
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
        if not found.free(*span) or len(np_text) < 2 or re.search(r"\d", np_text) or DEMONSTRATIVE.match(np_text):
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
        found.taken.append(span)
        found.add(_question_from(s, span, wh, ending), span[0], span[1], kind, bonus)


_FORMAL_NOUNS = frozenset({"こと", "もの", "ため", "よう", "方", "とき", "ところ", "場合", "手続き", "書類", "必要", "ほか", "他",
                           "一部", "全て", "すべて", "一方", "以上", "以下", "上記", "下記", "次", "際", "中", "間", "前", "後"})


def _list_after(s: Sentence, full: str) -> tuple[int, int] | None:
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
