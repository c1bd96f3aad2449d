"""Extractive meeting minutes (議事録) from a Transcript, without a language model.

    m = extract_minutes(parse_transcript(data, name), meeting_date=date(2025, 4, 1))
    sections(m)                                      # Markdown of each part: the minutes template's placeholders

What is extracted and how:
  * attendees: the speakers (plus a 出席者 header), in order of appearance;
  * agenda: a 議題 header, else the chair's topic announcements (議題は…/…について/…の件);
  * summary: key sentences chosen by MMR over Sudachi content words (relevance = cosine to the meeting
    centroid with a mild position prior, redundancy = max cosine to sentences already chosen), shown in
    meeting order (hideki.minutes.summary). benchmarks/minutes.py compares it with TextRank and lead-N baselines
    (PoliInfo char ROUGE-1 F: MMR 0.370, TextRank 0.355, lead-N 0.254); MMR is also O(n·k) where TextRank is O(n²);
  * decisions: cue expressions (決定・決まり・承認・了承・〜こととする・〜ことにします・〜で進めます・〜とします・
    異議なし …); a bare agreement (異議なし/賛成/それでいきましょう) after a proposal makes the proposal a decision;
  * ToDos: requests (〜をお願いします・〜してください・〜してもらえますか) whose owner is the addressee named in
    the sentence (田中さん、…) or the person who accepts in the next utterance, and first-person commitments
    (私が〜します・〜しておきます・〜までに〜します) owned by the speaker; deadlines are resolved against the
    meeting date (来週金曜, 月末, 今月中, 4月10日まで, 明日, 3日後, 次回まで → the next meeting when known;
    hideki.minutes.dates);
  * next meeting: 次回は… sentences with a date or time; pending: 継続審議・保留・持ち帰り・次回検討 ….

Every item keeps the speaker, start time and line of the utterance it came from. The engine works on the
sentence units of hideki.minutes.units.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from hideki.japanese.eras import WEEKDAYS
from hideki.japanese.sentences import split_sentences
from hideki.minutes.dates import DateExpression, find_date_expressions, find_deadline, year_for
from hideki.minutes.summary import rank_units
from hideki.minutes.transcripts import Transcript, Utterance
from hideki.minutes.units import Unit, clean_text, sentence_units


@dataclass
class Item:
    text: str
    speaker: str = ""
    start: str = ""
    line: int = 0


@dataclass
class Todo:
    task: str
    owner: str = ""
    due: str = ""        # ISO date or ""
    due_text: str = ""   # the deadline as said (来週金曜まで)
    speaker: str = ""
    start: str = ""
    line: int = 0


@dataclass
class Minutes:
    title: str
    date: str
    attendees: list[str]
    agenda: list[str]
    summary: list[str]
    decisions: list[Item]
    todos: list[Todo]
    next_meeting: str
    pending: list[Item]
    next_meeting_date: str = ""                              # ISO, when the next meeting has a date
    summary_items: list[Item] = field(default_factory=list)  # the summary with traceability



# ============================================================================ names


_HONORIFIC = r"(?:さん|様|さま|君|くん|ちゃん|課長補佐|課長|係長|主査|主任|主事|部長|室長|所長|局長|次長|補佐|参事|リーダー|先生)"
NAME_CHARS = r"[\u4e00-\u9fff々ヶァ-ヺーA-Za-z]"
_ADDRESSEE_RE = re.compile(r"(?P<name>" + NAME_CHARS + r"{1,8}?)" + _HONORIFIC + r"(?:[、,]|に(?:は)?|には|の方で|で|から|が|も|は|、)")
_ORG_RE = re.compile(r"(?P<name>[\u4e00-\u9fff々ヶァ-ヺー]{1,10}?(?:課|係|室|班|部|局|チーム|センター|事務局))"
                     r"(?:さんの方で|の方で|さんで|さんに|にお願い|で対応|で担当|が担当|で作成|で準備)")
NOT_NAMES = frozenset({"皆", "みな", "皆様", "お客", "市民", "住民", "職員", "担当", "先方", "相手", "業者", "委員", "向こう",
                        "みんな", "各", "そちら", "こちら", "どなた", "誰", "お子", "お母", "お父", "利用者"})


def name_keys(speakers: Sequence[str]) -> dict[str, str]:
    """Short forms of each speaker name (family name, name without role) -> the speaker."""
    keys: dict[str, str] = {}
    ambiguous: set[str] = set()
    for s in speakers:
        forms = {s}
        base = re.sub(r"[（(].*?[）)]", "", s).strip()
        forms.add(base)
        inner = re.findall(r"[（(]([^）)]+)[）)]", s)
        for part in inner:
            forms.add(re.sub(r"(君|さん|氏|委員|議員)$", "", part))
        for form in list(forms):
            parts = form.split(" ")
            forms.add(parts[0])
            stripped = re.sub(_HONORIFIC + r"$", "", form)
            forms.add(stripped)
            forms.add(re.sub(r"(委員長|副委員長|委員|議長|副議長|課長|係長|部長|主査|主任|室長|局長|所長)$", "", form))
            if " " not in form and 3 <= len(form) <= 5 and re.fullmatch(r"[\u4e00-\u9fff々]+", form):
                forms.add(form[:2])
        for f in forms:
            f = f.strip()
            if not f:
                continue
            if f in keys and keys[f] != s:
                ambiguous.add(f)
            keys[f] = s
    for f in ambiguous:
        keys.pop(f, None)
    return keys


def match_person(name: str, keys: dict[str, str]) -> str | None:
    if name in keys:
        return keys[name]
    for length in range(len(name) - 1, 0, -1):   # 防災課の田中 -> 田中
        tail = name[-length:]
        if tail in keys and length >= 2:
            return keys[tail]
    return None


_GROUP_RE = re.compile(r"(?P<who>全員|各自|皆さん|みなさん|皆様|みんな|各課|各担当)(?!に(?:送|共有|配|周知|連絡|通知|お知らせ))")


def find_addressee(sentence: str, keys: dict[str, str]) -> str:
    """The person (or section) a request is addressed to: 田中さん、… / 防災課の方で… / 全員"""
    return (_addressed_attendee(sentence, keys) or _addressed_name(sentence) or _addressed_section(sentence)
            or _addressed_group(sentence))


def _addressed_attendee(sentence: str, keys: dict[str, str]) -> str:
    """An attendee named with an honorific (田中さん、…), as the attendee's full name."""
    for m in _ADDRESSEE_RE.finditer(sentence):
        name = m.group("name")
        if name in NOT_NAMES:
            continue
        person = match_person(name, keys)
        if person:
            return person
    return ""


def _addressed_name(sentence: str) -> str:
    """Someone who is not an attendee, named with an honorific (not a company or an office)."""
    for m in _ADDRESSEE_RE.finditer(sentence):
        name = m.group("name")
        if name not in NOT_NAMES and not re.search(r"[ぁ-ん]", name) and len(name) >= 2 and \
                not name.endswith(("署", "会社", "業者")):
            return name
    return ""


def _addressed_section(sentence: str) -> str:
    """A section: 防災課の方で…, 企画係で対応."""
    m = _ORG_RE.search(sentence)
    if m and m.group("name") not in ("担当", "事務局"):
        return m.group("name")
    return ""


def _addressed_group(sentence: str) -> str:
    """Everyone: 全員 (全員/皆さん…) or 各自 (各自/各課/各担当)."""
    m = _GROUP_RE.search(sentence)
    if m:
        return "各自" if m.group("who") in ("各自", "各課", "各担当") else "全員"
    return ""


# ============================================================================ cue expressions

_QUESTION_RE = re.compile(r"(?:[？?]|(?:どう|どの|いつ|何|なに|どこ|誰|どなた)[^。、]*ましょう[。]?$|(?:でしょうか|ですか|ますか|ませんか|かな|っけ|ですかね|のか|んですか|どうか|かね)[。]?$)")
_NEGATED_RE = re.compile(r"(?:決まって(?:い)?(?:ない|ません)|決まらな|決めかね|決めてい(?:ない|ません)|決定ではな|まだ決|未定|"
                         r"確定で(?:は)?(?:ない|ありません)|未確定|"
                         r"承認されな|了承(?:でき|され)(?:ない|ません))")
_DECISION_RE = re.compile(
    r"(?:決定(?:します|しました|いたします|いたしました|です|とします|とさせて|事項|となり|になり|ということで|で(?:す|よろしい))|"
    r"(?:に|と|で)決(?:まり|めま|めさせ|定)|決まりました|決まりです|決まりで|決めました|決めたいと思います(?=.*よろしい)|"
    r"承認(?:します|しました|されました|いたします|いたしました|とします|ということ|で(?:す|よろしい)|を得)|"
    r"了承(?:します|しました|されました|いたしました|いただきました|とします|ということ|を得)|"
    r"(?:こと|方向|方針|形)(?:と|に)(?:します|しましょう|いたします|させていただきます|なりました|決ま|したいと思います|する|いたしたい)|"
    r"(?:こと|方針|方向)で(?:進め|いき|行き|合意|決定|確定|まとま|お願いします)|"
    r"で(?:進めます|進めましょう|進めることに|進めさせて|いきましょう|行きましょう|いこうと思います|確定|合意|決まり|決定|了承|承認|まとま|オッケー|OK)|"
    r"(?:その案|この案|その方向|その内容|原案|この内容|その形|その線)で(?:お願いします|よろしくお願いします)|"
    r"とします|とすることに|こととします|ことにします|ことにしました|ことになりました|ことで決|ことで合意|"
    r"異議(?:なし|ありません|はありません|ございません)|ご異議なし|賛成多数|全会一致|可決|原案(?:どおり|通り)|方向で[^、。]{1,12}ます$|"
    r"確定(?:します|しました|です|とします|で)|合意(?:しました|します|できました|です|とします)|"
    r"それでいきましょう|それで行きましょう|これでいきましょう|その方向で|その案で|この案で)"
)
_AGREEMENT_RE = re.compile(r"^(?:はい[、。]?)?(?:異議(?:なし|ありません|はありません|ございません)(?:です)?|ご?異議なし|賛成(?:です|します)?|"
                           r"了承します|意義なし|異議なしです)[。！!]*$")
_PROPOSAL_RE = re.compile(r"(?:よろしいでしょうか|よろしいですか|いかがでしょうか|どうでしょうか|いいですか|ということで(?:よろしい|いい)|"
                          r"したいと思いますが|と思いますが、?(?:どう|いかが|皆さん)|でいいですかね|ご意見はありますか|ご異議ございませんか|"
                          r"ご異議ありませんか|異議ありませんか)")
_PENDING_RE = re.compile(
    r"(?:継続審議|継続審査|継続協議|継続して(?:検討|協議|審議)|保留|持ち帰(?:り|って|らせ|ります)|持ち越し|持ち越す|先送り|"
    r"次回(?:に|で|の会議で|改めて|以降)?(?:改めて)?(?:検討|議論|協議|審議|決め|結論|判断|諮)|次回に回|"
    r"引き続き(?:検討|協議|議論|調整)(?:する|します|とします|としましょう|ということ)|"
    r"結論(?:は|を)(?:次回|出さず|見送|持ち越|先)|改めて(?:検討|協議|議論|お諮り)|今日は決めず|今回は決めず|今日は結論を出さず|"
    r"判断を保留|まだ決められ|決めきれ)"
)
_REQUEST_RE = re.compile(
    r"(?:をお願い(?:します|したいです|したいと思います|できますか|できますでしょうか|いたします)|お願い(?:します|したい|できますか|できますでしょうか|いたします)|"
    r"(?:して|って|で|て)(?:ください|下さい|くれますか|もらえますか|もらえますでしょうか|いただけますか|いただけますでしょうか|"
    r"もらっていいですか|もらってもいいですか|いただきたい|もらいたい|おいてください|おいて下さい|"
    r"くれる|おいてもらえますか|もらえないでしょうか|いただけないでしょうか|ほしい|欲しい)|"
    r"を(?:ください|下さい|いただけますか|もらえますか)|"
    r"(?:を|の)?担当(?:して|をお願い|でお願い|は|に決まり|に決め|ということで|としたいと)|宿題(?:に|で|として|ということ|を)|"
    r"(?:を|に|までに|までには)(?:ください|下さい|もらえますか|いただけますか|いただけますでしょうか)|"
    r"(?:もらえると|いただけると)(?:助かります|ありがたい|うれしい|嬉しい))"
)
_POLITE_ONLY_RE = re.compile(r"^(?:(?:それでは|では|じゃあ|はい|それじゃ)[、,]?\s*)?(?:どうぞ)?(?:よろしく|引き続きよろしく|今後ともよろしく|以上、?よろしく)?(?:お願い(?:いた)?します|お願いいたします)[。！!]*$")
_PROCEDURE_OBJECTS = re.compile(r"(?:ご?説明|ご?報告|ご?紹介|ご?意見|ご?発言|ご?挨拶|ご?質問|ご?確認を?いただ|進行|司会|自己紹介|ご?審議|ご?協力|ご?理解|"
                                r"ご?発表|ご?回答|ご?答弁|ミュート|画面共有|よろしく)(?:を|も|の方)?(?:お願い|して|いただ)|"
                                r"(?:状況|現状|結果|経緯|概要|方|順番|ところ)から(?:お願い|ご説明|説明)|^(?:それで|これで|その方向で|その案で)お願い")
_COMMIT_RE = re.compile(
    r"(?:(?:して|って|で|て)おきます|(?:して|って|で|て)おこうと思います|しておく|やっておきます|(?:やり|作り|送り|出し|まとめ|確認し|調べ|"
    r"連絡し|手配し|準備し|調整し|作成し|提出し|共有し|用意し|整理し|修正し|更新し|依頼し|相談し|問い合わせ|聞い|当たっ|進め|"
    r"回答し|掲載し|発注し|見直し|検討し|送付し|配布し|予約し|申請し|集計し|取りまとめ|とりまとめ|対応し|展開し|周知し|"
    r"作っ|書い|入れ|投げ|打診し|照会し|確保し|押さえ)(?:ます|ましょう|たいと思います|ようと思います|させていただきます|て(?:み|いき)ます|"
    r"ておきます|てみます)|"
    r"(?:いたします|やります|引き受けます|担当します|対応します|お任せください|任せてください|させていただきます|させてもらいます|"
    r"(?:確認|調整|作成|準備|連絡|手配|提出|報告|共有|相談|検討|修正|集計|整理|回答|送付)(?:いたします|します|しておきます)))"
)
# a sentence ending in a non-past action verb (作ります, 送ります, 確定させます, 行ってきます …)
_ACTION_END_RE = re.compile(r"(?:ます|ましょう|ておきます|てきます|てみます)[。！!]*$")
_STATIVE_END_RE = re.compile(r"(?:あり|(?:て|で|が|は|も|に|^)い|なり|思い|でき|おり|ござい|かかり|わかり|分かり|存じ|見え|聞こえ|しまい|助かり|"
                             r"違い|足り|困り|参り|まいり|入り|要り|すみ|すいま|始まり|終わり|決まり|変わり|集まり|届き|続き|残り|減り|増え|"
                             r"間に合い|似合い|向き|わかり)(?:ます|ましょう)[。！!]*$|ません[。]*$")
_FIRST_PERSON_RE = re.compile(r"(?:私|わたし|僕|ぼく|自分|わたくし|こちら|うち|当課|我々|私ども|弊課|こっち)(?:の方|のほう|たち|ども|で)?(?:で|が|から|は|も|、)|私$")
_ACCEPT_RE = re.compile(r"^(?:はい[、。]?\s*)?(?:承知しました|承知いたしました|了解です|了解しました|わかりました|分かりました|"
                        r"かしこまりました|やります|大丈夫です|できます|引き受けます|了解|オッケー|OK|いいですよ)")
_MEETING_VERBS = re.compile(r"(?:始め|はじめ|開始し|終わり|終了し|閉会し|開会し|移り|移ら|進め(?:させて)?(?:ます|ましょう)$|説明し|説明いた|"
                            r"ご説明|報告し|報告いた|ご報告|紹介し|ご紹介|共有し(?:ます)?(?=.*画面)|画面|読み上げ|お諮り|諮り|"
                            r"締め|まとめます$|戻し|休憩|再開|申し上げ|お答えし|答弁)")
_PAST_RE = re.compile(r"(?:ました|でした|ていました|ておりました|たんです|たんですけど|た。|ましたが)[。]?$")


def _trim_task(text: str) -> str:
    """A task phrase from its sentence: fillers, addressee and polite endings removed."""
    s = clean_text(text)
    for _ in range(2):
        s = re.sub(r"^(?:じゃあ|では|それでは|それじゃ|で|あとは?|それと|それから|なので|ですので|はい|了解です|承知しました|"
                   r"わかりました|分かりました|ありがとうございます|お願いします|それは)[、,。]?\s*", "", s)
    s = re.sub(r"^" + NAME_CHARS + r"{1,8}?" + _HONORIFIC + r"[、,]\s*", "", s)
    s = s.rstrip("。！!")
    return s.strip()


def _sentence_neighbours(units: Sequence[Unit], i: int) -> Iterable[Unit]:
    j = i + 1
    while j < len(units) and units[j].utterance == units[i].utterance:
        yield units[j]
        j += 1


# ============================================================================ extraction


def to_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def find_next_meeting(units: Sequence[Unit], base: dt.date | None) -> tuple[str, dt.date | None, Unit | None]:
    best: tuple[str, dt.date | None, Unit | None] = ("", None, None)
    for u in units:
        s = u.clean
        if not re.search(r"次回|次の会議|次の打ち合わせ|次回会議|次の定例", s):
            continue
        if re.search(r"次回(?:の会議|の打ち合わせ)?(?:まで|前)", s) and not re.search(r"次回(?:は|の日程|の開催|の会議は)", s):
            continue
        if _PENDING_RE.search(s) and not re.search(r"次回(?:は|の日程|の開催)", s):
            continue
        expressions = [e for e in find_date_expressions(s, base) if e.kind != "next_meeting"]
        time_hit = re.search(r"[0-9０-９一二三四五六七八九十]+時|同じ時間|午前|午後", s)
        same_time = re.search(r"(?:来週|再来週|来月)の同じ(?:曜日|時間)", s)
        if not expressions and not time_hit and not same_time:
            continue
        dated = next((e for e in expressions if e.date), None)
        date = dated.date if dated else None
        if date is not None and base is not None and date < base and "年" not in dated.text:
            date = year_for(base + dt.timedelta(days=60), date.month, date.day)  # the next meeting is ahead
        if date is None and same_time and base:
            date = base + dt.timedelta(weeks=1 if "来週" in same_time.group(0) else 2) if "来月" not in same_time.group(0) \
                else None
        text = _trim_task(s)
        if date is not None:
            text = f"{date.year}年{date.month}月{date.day}日（{WEEKDAYS[date.weekday()]}） {text}"
        if best[2] is None or date is not None:
            best = (text, date, u)
    return best


def extract_minutes(transcript: Transcript, meeting_date: dt.date | None = None, summary_sentences: int = 5) -> Minutes:
    """Minutes of a transcript, every item traceable to its utterance."""
    base = meeting_date or to_date(transcript.date)
    units = sentence_units(transcript)
    speakers = transcript.speakers
    attendees = list(dict.fromkeys([s for s in speakers if s != "（不明）"] + transcript.participants))
    keys = name_keys(attendees)
    next_text, next_date, next_unit = find_next_meeting(units, base)
    decisions, pending = _decisions_and_pending(units, next_unit)
    todos = _todos(units, transcript.utterances, keys, base, next_date)
    summary_items = _summary(units, summary_sentences)
    agenda = list(transcript.agenda) or _agenda(units)
    return Minutes(
        title=transcript.title,
        date=(meeting_date.isoformat() if meeting_date else transcript.date),
        attendees=attendees,
        agenda=agenda,
        summary=[f"{it.text}（{it.speaker}）" for it in summary_items],
        decisions=decisions,
        todos=todos,
        next_meeting=next_text,
        pending=pending,
        next_meeting_date=next_date.isoformat() if next_date else "",
        summary_items=summary_items,
    )


def _item(u: Unit, text: str | None = None) -> Item:
    return Item(text if text is not None else _trim_task(u.text), u.speaker, u.start, u.line)


_CHAIR_NOT_DECISION = re.compile(r"(?:始め|はじめ|終わり|終え|移り|休憩し|集まり|締め|戻り|再開し|聞き|伺い|判断し|検討し|考え|"
                                 r"相談し|確認し|待ち)ましょう$")
_REFERRING_RE = re.compile(r"^(?:では|じゃあ|それでは|はい)?[、,]?(?:これ|それ|この|その|以上|そのよう|あの)")
_NEXT_MEETING_RE = re.compile(r"^(?:次回|次の(?:会議|打ち合わせ|打合せ|定例))(?:の[^、。]{0,6})?は")


def _is_short(text: str, limit: int = 16) -> bool:
    return len(re.sub(r"[、。？?！!\s]", "", text)) <= limit


class _Decisions:
    """The decisions found so far, with the bookkeeping that merges follow-ups into them."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.weak: dict[int, int] = {}                # index in items -> utterance of a weak decision
        self.decided: set[tuple[int, int]] = set()    # (utterance, sentence) already used
        self.last_utterance = -10

    def add(self, u: Unit, text: str, is_weak: bool, key: tuple[int, int]) -> None:
        """Record a decision; a strong one replaces (or, in the same utterance, extends) a recent weak one
        of the same speaker."""
        self.decided.add(key)
        for index in sorted(self.weak, reverse=True):
            prev = self.items[index]
            if prev.speaker == u.speaker and 0 <= u.utterance - self.weak[index] <= 3 and not is_weak:
                del self.weak[index]
                if prev.line == u.line:
                    prev.text = prev.text + "。" + text      # 「それでいきましょう。Aの方向で要求します。」
                else:
                    self.items[index] = _item(u, text)
                self.last_utterance = u.utterance
                return
        self.items.append(_item(u, text))
        if is_weak:
            self.weak[len(self.items) - 1] = u.utterance
        self.last_utterance = u.utterance


def _decisions_and_pending(units: Sequence[Unit], next_unit: Unit | None) -> tuple[list[Item], list[Item]]:
    """Decisions (cue expressions, agreed proposals, the chair's 〜しましょう) and pending items.

    A weak decision (a short 「それでいきましょう」 or the chair's 〜しましょう) is replaced by a formal one
    (〜こととします) that the same speaker states within three utterances.
    """
    decisions = _Decisions()
    pending: list[Item] = []
    chair = units[0].speaker if units else ""
    for i, u in enumerate(units):
        s = u.clean
        if not s or u is next_unit or _NEXT_MEETING_RE.match(s):
            continue
        if _PENDING_RE.search(s) and not _QUESTION_RE.search(s):
            pending.append(_pending_item(units, i))
            continue
        if _NEGATED_RE.search(s):
            continue
        if _AGREEMENT_RE.match(s):
            # 「異議なし」 after a proposal: the proposal is the decision
            proposal = _previous_proposal(units, i)
            if proposal is not None and (proposal.utterance, proposal.index) not in decisions.decided:
                decisions.add(proposal, _trim_task(proposal.text), False, (proposal.utterance, proposal.index))
            continue
        _decision_sentence(decisions, units, i, chair)
    return decisions.items, pending


def _pending_item(units: Sequence[Unit], i: int) -> Item:
    """A pending item; a short one (「一旦保留とします。」) takes the sentence before it along."""
    u = units[i]
    text = _trim_task(u.text)
    if _is_short(text, 10) and u.index > 0 and units[i - 1].utterance == u.utterance:
        text = _trim_task(units[i - 1].text) + "。" + text
    return _item(u, text)


def _decision_sentence(decisions: _Decisions, units: Sequence[Unit], i: int, chair: str) -> None:
    """Unit i as a decision when it has a decision cue, or is the chair's 〜しましょう; a short one that refers
    back (これは決定ということで) carries the sentence before it or confirms the chair's recent proposal."""
    u = units[i]
    s = u.clean
    cue = s.rstrip("。！!．. ")
    if _QUESTION_RE.search(s) or len(cue) < 8 or (u.utterance, u.index) in decisions.decided:
        return
    strong = bool(_DECISION_RE.search(cue))
    chair_volitional = (u.speaker == chair and cue.endswith("ましょう") and not _CHAIR_NOT_DECISION.search(cue))
    if not (strong or chair_volitional):
        return
    text = _trim_task(u.text)
    short = _is_short(text, 12)
    previous = units[i - 1] if i > 0 else None
    if short and previous is not None and previous.utterance == u.utterance \
            and not _QUESTION_RE.search(previous.clean) and (previous.utterance, previous.index) not in decisions.decided:
        # 「…やってみましょう。これは決定ということで。」: the sentence before carries the content
        decisions.add(previous, _trim_task(previous.text) + "。" + text, _REFERRING_RE.match(s) is None and not strong
                      or short and "いきましょう" in cue, (u.utterance, u.index))
        decisions.decided.add((previous.utterance, previous.index))
        return
    if short and _REFERRING_RE.match(s) and strong:
        near = [k for k, w in decisions.weak.items()
                if decisions.items[k].speaker == u.speaker and 0 <= u.utterance - w <= 3]
        if near:   # 「これは決定ということで。」 confirms the chair's proposal
            k = max(near)
            del decisions.weak[k]
            if decisions.items[k].line == u.line:
                decisions.items[k].text += "。" + text
            decisions.decided.add((u.utterance, u.index))
            return
        if u.utterance - decisions.last_utterance <= 3:
            return   # 「では、この基準で決定します。」 restates the decision just made
    decisions.add(u, text, short or not strong, (u.utterance, u.index))


def _previous_proposal(units: Sequence[Unit], i: int) -> Unit | None:
    """The proposal an agreement at unit i answers: in the last turn before it that is not itself an agreement."""
    j = i - 1
    while j >= 0 and (units[j].speaker == units[i].speaker or _AGREEMENT_RE.match(units[j].clean)
                      or _ACCEPT_RE.match(units[j].clean) and _is_short(units[j].clean, 10)):
        j -= 1
    if j < 0:
        return None
    turn_end = j
    while j >= 0 and units[j].utterance == units[turn_end].utterance:
        s = units[j].clean
        if _PROPOSAL_RE.search(s) or _DECISION_RE.search(s):
            # the proposal may be split: 「A で進めたいと思います。よろしいでしょうか。」
            if _is_short(s, 14) and j > 0 and units[j - 1].utterance == units[j].utterance:
                return units[j - 1]
            return units[j]
        j -= 1
    return None


def _is_commitment(s: str, has_deadline: bool) -> bool:
    """A first-person promise: 私が〜します / 〜しておきます / 〜までに〜します (not a question, past or negation)."""
    if _QUESTION_RE.search(s):
        return False
    s = s.rstrip("。！!．. ")
    if _PAST_RE.search(s + "。"):
        return False
    if _STATIVE_END_RE.search(s) and not re.search(r"ておきます|てきます|てみます", s[-8:]):
        return False
    action = bool(_ACTION_END_RE.search(s) or _COMMIT_RE.search(s))
    if not action:
        return False
    if _MEETING_VERBS.search(s) and not has_deadline:
        return False
    if re.search(r"(?:と|に)(?:決定|します|しましょう)$|こととします|ことにします|方向で", s) and not _FIRST_PERSON_RE.search(s):
        return False   # a decision, not a promise
    if re.search(r"ましょう[。！!]*$", s) and not _FIRST_PERSON_RE.search(s):
        return False
    return bool(_FIRST_PERSON_RE.search(s) or has_deadline or re.search(r"ておきます|ておこう|てきます", s)
                or re.search(r"(?:担当します|引き受けます|お任せください|任せてください|やります)", s))


_REPORTED_RE = re.compile(r"(?:ほしい|欲しい|ください|下さい|お願いします|してくれ)(?:という|とい|との|と言|って言|って話|と要望|と依頼)")
_BARE_REQUEST_RE = re.compile(r"^(?:それで|これで|じゃあ|では|はい|、|\s)*(?:お願い(?:いた)?します|お願いできますか|よろしくお願いします)[。！!]*$")


def _todos(units: Sequence[Unit], utterances: Sequence[Utterance], keys: dict[str, str], base: dt.date | None,
           next_date: dt.date | None) -> list[Todo]:
    """Requests and first-person commitments, with owner and deadline; follow-ups merge into their ToDo."""
    todos: list[Todo] = []
    answered: set[int] = set()   # ids of requests a commitment has already answered
    for i, u in enumerate(units):
        s = u.clean
        if not _may_be_task(s):
            continue
        deadline = find_deadline(s, base, next_date)
        is_request = _is_request(s)
        is_commit = not is_request and _is_commitment(s, deadline is not None)
        if not (is_request or is_commit):
            continue
        task = _trim_task(u.text)
        bare = _is_bare_request(task, deadline)
        if is_request:
            owner = _request_owner(units, i, keys, utterances)
            if bare and not deadline:
                continue   # 「田中さん、お願いします。」 hands over the floor
        else:
            owner = u.speaker
        if deadline is None:
            deadline, task = _deadline_said_next(units, i, task, base, next_date)
        if is_commit:
            task = _with_next_action(units, i, task)
        if len(task) < 4:
            continue
        todo = Todo(task, owner, deadline.date.isoformat() if deadline and deadline.date else "",
                    deadline.text if deadline else "", u.speaker, u.start, u.line)
        _add_todo(todos, todo, units, i, is_commit, bare, answered)
    return todos


def _may_be_task(s: str) -> bool:
    """Not a greeting, too short, the next meeting or a pending item (unless it is 宿題)."""
    if not s or _POLITE_ONLY_RE.match(s) or len(s) < 6 or _NEXT_MEETING_RE.match(s):
        return False
    return not (_PENDING_RE.search(s) and not re.search(r"宿題", s))


def _is_request(s: str) -> bool:
    """〜をお願いします / 〜してください / 〜してもらえますか, not a procedure (ご説明をお願いします), not
    reported (〜してほしいという話), not past, and not a question other than a polite request."""
    is_request = bool(_REQUEST_RE.search(s)) and not _PROCEDURE_OBJECTS.search(s) and not _REPORTED_RE.search(s)
    if is_request and (_PAST_RE.search(s) or _QUESTION_RE.search(s) and not re.search(
            r"(?:もらえますか|いただけますか|くれますか|できますか|でしょうか|もらえますでしょうか|いただけますでしょうか|"
            r"もらってもいいですか|もらっていいですか)[。？?]*$", s)):
        is_request = False
    return is_request


def _is_bare_request(task: str, deadline: DateExpression | None) -> bool:
    """Nothing but お願いします is left once the addressee and the deadline are taken out."""
    rest = unicodedata.normalize("NFKC", task)
    if deadline is not None:
        rest = rest.replace(deadline.text, "").replace("までに", "").replace("まで", "")
    rest = re.sub("^" + NAME_CHARS + r"{1,8}?" + _HONORIFIC + r"[、,は]?", "", rest)
    return bool(_BARE_REQUEST_RE.match(re.sub(r"^[、,はに\s]+", "", rest)))


def _request_owner(units: Sequence[Unit], i: int, keys: dict[str, str], utterances: Sequence[Utterance]) -> str:
    """Whom request i is for: the addressee named in it or in a sentence next to it, else the person who
    accepts in the next turn; never the speaker."""
    u = units[i]
    owner = find_addressee(u.clean, keys)
    if not owner:   # 「田中さん。」 as a sentence of its own, or 「…。これは全員お願いします。」
        for j in (i - 1, i + 1):
            if 0 <= j < len(units) and units[j].utterance == u.utterance:
                owner = find_addressee(units[j].clean + "、", keys)
                if owner:
                    break
    if not owner:
        owner = _accepting_speaker(units, i, utterances)
    if owner == u.speaker:
        owner = ""
    return owner


def _deadline_said_next(units: Sequence[Unit], i: int, task: str, base: dt.date | None,
                        next_date: dt.date | None) -> tuple[DateExpression | None, str]:
    """A deadline in the following sentences of the same utterance (「…をお願いします。説明会の日、7月14日までに。」),
    added to the task; stops at the next request or commitment."""
    for nb in _sentence_neighbours(units, i):
        if _REQUEST_RE.search(nb.clean) or _is_commitment(nb.clean, False):
            break
        deadline = find_deadline(nb.clean, base, next_date)
        if deadline is not None:
            return deadline, task + "。" + _trim_task(nb.text)
    return None, task


def _with_next_action(units: Sequence[Unit], i: int, task: str) -> str:
    """A commitment continued by an action in the next sentence: 「設計は私が担当します。すぐ着手します。」"""
    for nb in _sentence_neighbours(units, i):
        t = nb.clean.rstrip("。！!")
        if _ACTION_END_RE.search(t) and not _STATIVE_END_RE.search(t) and not _QUESTION_RE.search(nb.clean) \
                and not _REQUEST_RE.search(t) and not _is_commitment(nb.clean, False):
            task = task + "。" + _trim_task(nb.text)
        break
    return task


def _accepting_speaker(units: Sequence[Unit], i: int, utterances: Sequence[Utterance]) -> str:
    """The speaker who answers a request with 承知しました/わかりました/はい、やります in the next turn."""
    ui = units[i].utterance
    for nxt in range(ui + 1, min(ui + 3, len(utterances))):
        u = utterances[nxt]
        if u.speaker == units[i].speaker:
            return ""
        text = clean_text(u.text)
        if _ACCEPT_RE.match(text) or re.match(r"^はい[、。]", u.text.strip()) and any(
                _is_commitment(sentence, True) for sentence in split_sentences(text)):
            return u.speaker
    return ""


def _add_todo(todos: list[Todo], todo: Todo, units: Sequence[Unit], i: int, is_commit: bool, bare: bool,
              answered: set[int]) -> None:
    """Append, merging follow-ups: a second sentence of the same request, a deadline-only request, a promise
    that answers a recent request to the same person."""
    utterance = units[i].utterance
    for prev in reversed(todos[-4:]):
        prev_utterance = prev.__dict__.get("_utterance", -10)
        same_utterance = prev.line == todo.line and prev.speaker == todo.speaker
        if same_utterance and (not todo.owner or not prev.owner or todo.owner == prev.owner) \
                and (not is_commit or prev.owner == todo.speaker):
            if not prev.due and todo.due:
                prev.due, prev.due_text = todo.due, todo.due_text
            prev.owner = prev.owner or todo.owner
            if not bare and todo.task not in prev.task:
                prev.task = prev.task + "。" + todo.task
            return
        if bare and prev.speaker == todo.speaker and utterance - prev_utterance <= 3:
            # 「来週金曜までにお願いします。」 answering 「いつまでですか」
            if todo.due:
                prev.due, prev.due_text = todo.due, todo.due_text
            prev.owner = prev.owner or todo.owner
            return
        if is_commit and id(prev) not in answered and prev.owner == todo.owner and prev.speaker != todo.speaker \
                and 0 < utterance - prev_utterance <= 2:
            answered.add(id(prev))
            if not prev.due and todo.due:
                prev.due, prev.due_text = todo.due, todo.due_text
            return
    todo.__dict__["_utterance"] = utterance   # not a field: kept out of asdict()
    todos.append(todo)


_PROCEDURAL_RE = re.compile(
    r"^(?:よろしく(?:お願い)?|お疲れ様|ありがとうございま|はい|ええ|うん|そうですね|なるほど|了解|承知|わかりました|分かりました|"
    r"おはようございま|こんにちは|失礼しま|お願いします|大丈夫です|以上です|異議なし|聞こえ|画面)"
)


def _summary(units: Sequence[Unit], k: int) -> list[Item]:
    """Key sentences of the meeting (not procedure or questions), in meeting order."""
    candidates = [u for u in units if len(u.clean) >= 12 and not _PROCEDURAL_RE.match(u.clean)
                  and not _QUESTION_RE.search(u.clean)]
    if not candidates:
        return []
    chosen = rank_units([c.clean for c in candidates], k=k, position_weight=0.05)
    return [Item(_trim_task(candidates[j].text), candidates[j].speaker, candidates[j].start, candidates[j].line)
            for j in chosen]


_AGENDA_RE = re.compile(
    r"(?:(?:[0-9０-９一二三四五六七八九十]+(?:つ目|点目|番目)の)?議題(?:は|の|に)?|案件|次(?:に|は)|続いて|まず|最後に|本日は)[、,]?\s*"
    r"(?P<topic>[^、。「」]{2,30}?)(?:について|に関して|の件|についての)"
)


def _agenda(units: Sequence[Unit]) -> list[str]:
    topics: list[str] = []
    first_speaker = units[0].speaker if units else ""
    for u in units:
        if u.speaker != first_speaker:
            continue
        m = _AGENDA_RE.search(u.clean)
        if m:
            topic = m.group("topic").strip()
            topic = re.sub(r"^(?:の|は|、)", "", topic)
            if topic and topic not in topics and not re.search(r"(?:これ|それ|その|この|先ほど|今の|今回の件)$|^(?:これ|それ|その|この)", topic):
                topics.append(topic)
    return topics[:10]


# ============================================================================ Markdown


def trace(start: str, speaker: str, line: int) -> str:
    where = f"{start} " if start else ""
    return f"{where}{speaker}（{line}行目）" if line else f"{where}{speaker}"


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def due_label(t: Todo) -> str:
    if t.due:
        d = dt.date.fromisoformat(t.due)
        label = f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"
        return f"{label} ※{t.due_text}" if t.due_text and not re.search(r"\d+月\d+日", t.due_text) else label
    return t.due_text or "未定"


def sections(m: Minutes) -> dict[str, str]:
    """Markdown for each part of the minutes: the placeholders of the minutes template."""
    d = to_date(m.date)
    todos = "- なし"
    if m.todos:
        rows = ["| 担当 | 内容 | 期限 | 発言 |", "|---|---|---|---|"]
        rows += [f"| {_cell(t.owner or '未定')} | {_cell(t.task)} | {_cell(due_label(t))} | {_cell(trace(t.start, t.speaker, t.line))} |"
                 for t in m.todos]
        todos = "\n".join(rows)

    def bullets(lines: list[str], empty: str = "なし") -> str:
        return "\n".join(f"- {line}" for line in lines) if lines else f"- {empty}"

    return {
        "title": m.title or "（未記載）",
        "date": f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）" if d else (m.date or "（未記載）"),
        "attendees": "、".join(m.attendees) if m.attendees else "（不明）",
        "agenda": bullets(m.agenda, "（未記載）"),
        "summary": bullets(m.summary),
        "decisions": bullets([f"{i.text}（{trace(i.start, i.speaker, i.line)}）" for i in m.decisions]),
        "todos": todos,
        "next_meeting": bullets([m.next_meeting] if m.next_meeting else [], "未定"),
        "pending": bullets([f"{i.text}（{trace(i.start, i.speaker, i.line)}）" for i in m.pending]),
    }
