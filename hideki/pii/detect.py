"""PII guard: find personal information locally, before any text is sent to an external model.

Municipal generative-AI guidelines forbid sending personal information to external AI services.
`find_pii` finds it with rules plus Sudachi (no network), `mask` swaps it for placeholders such as
［氏名1］ and `restore` puts the originals back into the model's reply.

Categories and what counts (the rules the labelled set in tests/fixtures/pii follows):
  my_number       12 digits (optionally 4-4-4 with spaces/hyphens) whose check digit is valid, unless the
                  nearest label before it names another kind of number (受付番号, 法人番号, 口座番号 …).
  phone           Japanese numbers: landline (10 digits), mobile/IP/M2M 0X0 (11), 0120/0570 (10), 0800 (11),
                  +81 forms; hyphens, spaces or parentheses; not part of a longer code (03-1234-5678-A)
                  and not after a product/management-number label. Office numbers count too: the guard
                  cannot tell an office line from a private one.
  email           addresses with a domain and a TLD.
  postal_address  a street address down to the house (municipality + 番地/号/1-2-3 …), with a postal code
                  in front when there is one. A postal code alone, or a town without house numbers, is
                  an area, not a person's address.
  bank_account    a 7-digit account number (or ゆうちょ 記号-番号) whose nearest label is an account label
                  (口座番号, 普通, 当座, 支店 …). Only the number is the span.
  birth_date      a date with a birth context (生年月日/誕生日 label before, or 生まれ/生 right after); the
                  date itself is the span. Plain dates and eligibility ranges (…以前に生まれた方) are not.
  person_name     a name before an honorific (様/さま/さん/氏/殿/君/くん/ちゃん), after a name label
                  (氏名：, 相談者 …), or a Sudachi 姓+名 pair; not titles or roles (市長さん, 担当者様,
                  皆様, お客様), placeholders (〇〇様, Aさん) or a name followed by an office title
                  (山田市長). Only the name is the span, the honorific stays.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from hideki.japanese.patterns import DATE_ANY_FORM, PHONE_ANY_FORM

CATEGORIES = ("my_number", "phone", "email", "postal_address", "bank_account", "birth_date", "person_name")
LABELS = {
    "my_number": "個人番号",
    "phone": "電話番号",
    "email": "メールアドレス",
    "postal_address": "住所",
    "bank_account": "口座番号",
    "birth_date": "生年月日",
    "person_name": "氏名",
}
_PRIORITY = {c: i for i, c in enumerate(
    ("my_number", "bank_account", "phone", "email", "birth_date", "postal_address", "person_name"))}


@dataclass(frozen=True)
class Finding:
    category: str
    start: int
    end: int
    text: str


# --------------------------------------------------------------------------- normalisation
# One character in, one character out, so offsets in the normalised text are offsets in the original.
_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}  # full-width ASCII
_TABLE.update({0x3000: 0x20, 0x00A0: 0x20})
for _dash in "‐‑‒–—―−﹣－":
    _TABLE[ord(_dash)] = ord("-")
_TABLE.update({ord("（"): ord("("), ord("）"): ord(")")})
_CHOON_IN_NUMBER = re.compile(r"(?<=\d)[ーｰ](?=\d)")


def _normalise(text: str) -> str:
    norm = text.translate(_TABLE)
    return _CHOON_IN_NUMBER.sub("-", norm)


# --------------------------------------------------------------------------- my number
_MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)  # Q_n for P_11 … P_1 (left to right)


def my_number_check_digit(first11: str) -> int:
    """The check digit of a 個人番号 from its first 11 digits (行政手続における特定の個人を識別するための
    番号の利用等に関する法律施行令 第8条): 11 − (Σ P_n×Q_n mod 11), where P_n is the n-th digit from the
    right and Q_n = n+1 (n ≤ 6), n−5 (n ≥ 7); 0 when the remainder is 0 or 1."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError("need exactly 11 ASCII digits")
    remainder = sum(int(d) * w for d, w in zip(first11, _MY_NUMBER_WEIGHTS)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(number: str) -> bool:
    """True for 12 digits (full-width, spaces and hyphens allowed) with a valid check digit."""
    digits = re.sub(r"[\s-]", "", _normalise(number))
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return my_number_check_digit(digits[:11]) == int(digits[11])


_MY_NUMBER = re.compile(r"(?<![0-9\-.])(\d{4})([ \-]?)(\d{4})\2(\d{4})(?![0-9]|[\-.][0-9A-Za-z])")

# --------------------------------------------------------------------------- labels before a number
_LABEL_KINDS = [
    ("mynumber", "個人番号|マイナンバー|マイナ番号|My ?Number"),
    ("account", "口座番号|口座No\\.?|口座|普通預金|当座預金|貯蓄預金|普通|当座|預金|貯金|振込先|振込口座|支店"),
    ("phone", "電話番号|電話|TEL|Tel|tel|FAX|Fax|fax|携帯|連絡先|ファックス|ファクス"),
    ("birth", "生年月日(?!欄)|誕生日(?![会月祝])|生年(?!金)|出生日|生まれ|DOB|Birthday"),
    ("other", "受付番号|整理番号|管理番号|注文番号|伝票番号|問い?合わせ番号|問合せ番号|申請番号|法人番号|"
              "会員番号|顧客番号|契約番号|証券番号|証書番号|型番|品番|製品番号|部品番号|製造番号|シリアル|"
              "登録番号|文書番号|通知番号|番号札|JAN|ISBN|被保険者番号|保険者番号|受給者番号|宛名番号|"
              "世帯番号|識別番号|予約番号|発注番号|請求番号|案件番号|チケット番号|お客様番号|メーター番号|"
              "事業者番号|基礎年金番号|口座振替受付|ロット|Lot|LOT|品目コード|商品コード|コード"),
]
_LABEL_RE = re.compile("|".join(f"(?P<{kind}>{alt})" for kind, alt in _LABEL_KINDS))
_LABEL_WINDOW = 20


def _nearest_label(norm: str, pos: int, window: int = _LABEL_WINDOW) -> str | None:
    """Kind of the last label within `window` characters before `pos` on the same line and sentence."""
    lo = max(0, pos - window)
    chunk = norm[lo:pos]
    cut = max(chunk.rfind("\n"), chunk.rfind("。"))
    if cut >= 0:
        chunk = chunk[cut + 1:]
    kind = None
    for m in _LABEL_RE.finditer(chunk):
        kind = m.lastgroup
    return kind


def _find_my_numbers(norm: str) -> list[tuple[int, int]]:
    out = []
    for m in _MY_NUMBER.finditer(norm):
        digits = m.group(1) + m.group(3) + m.group(4)
        if my_number_check_digit(digits[:11]) != int(digits[11]):
            continue
        if _nearest_label(norm, m.start()) in ("other", "account", "phone", "birth"):
            continue
        out.append((m.start(), m.end()))
    return out


# --------------------------------------------------------------------------- phone
def _phone_ok(s: str) -> bool:
    if s.startswith("+81"):
        rest = s[3:].replace("(0)", "")
        digits = re.sub(r"\D", "", rest)
        national = digits if digits.startswith("0") else "0" + digits
    else:
        national = re.sub(r"\D", "", s)
    groups = [g for g in re.split(r"[^0-9]+", s.replace("+81", "").replace("(0)", "")) if g]
    if len(groups) > 1 and len(groups[-1]) < 3:
        return False
    n = len(national)
    if national.startswith(("070", "080", "090", "050", "020", "0800")):
        return n == 11
    if national.startswith(("0120", "0570", "0990")):
        return n == 10
    if national[1:2] in ("", "0"):
        return False
    return n == 10


def _find_phones(norm: str) -> list[tuple[int, int]]:
    out = []
    for m in PHONE_ANY_FORM.finditer(norm):
        if not _phone_ok(m.group()):
            continue
        if _nearest_label(norm, m.start()) in ("other", "account", "mynumber"):
            continue
        out.append((m.start(), m.end()))
    return out


# --------------------------------------------------------------------------- email
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9\-])"
)


def _find_emails(norm: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _EMAIL.finditer(norm)]


# --------------------------------------------------------------------------- postal address
_PREFS = (
    "北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|"
    "新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|"
    "奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|"
    "熊本県|大分県|宮崎県|鹿児島県|沖縄県"
)
_K = "\u4e00-\u9fff\u3400-\u4dbf々〆ヵヶ"
_KANA_CITIES = (
    "さいたま|つくばみらい|つくば|ひたちなか|いわき|かすみがうら|いちき串木野|南アルプス|あきる野|みどり|"
    "にかほ|うきは|みやま|えびの|たつの|かほく|いなべ|みよし|せたな|むつ|つがる|おいらせ|ニセコ"
)
_MUNI = rf"(?:(?:[{_K}]{{1,5}}|{_KANA_CITIES})(?:市|区|町|村|郡)){{1,3}}"
_TOWN = rf"(?:[{_K}ァ-ヺ][{_K}ァ-ヺーがケヶノの]{{0,9}}?|[ぁ-ゖ]{{2,5}}[{_K}][{_K}ァ-ヺーがケヶノの]{{0,6}}?)?"
_NUMK = r"(?:\d{1,5}|[一二三四五六七八九十〇]{1,4})"
_SEP = r"(?:丁目|番地の?|番の?|号|-|の)"
_END = r"(?:番地|番(?![目手線組台])|号(?![館線機車議]))"
_BLOCK = rf"{_NUMK}(?:(?:[ ]?{_SEP}[ ]?{_NUMK}){{1,3}}{_END}?|{_END})"
_ROOM = rf"(?:[ ]?[{_K}ァ-ヺーぁ-ゖA-Za-z・]{{0,15}}[ ]?\d{{1,4}}号室)?"
_ADDRESS = re.compile(
    rf"(?:(?:{_PREFS})[ ]?{_MUNI}|(?<![{_K}]){_MUNI})[ ]?{_TOWN}[ ]?{_BLOCK}{_ROOM}"
)
_AREA = re.compile(rf"(?:(?:{_PREFS})[ ]?(?:{_MUNI})?|{_MUNI}){_TOWN}")
_ADDRESS_LABEL = re.compile(r"^(?:現住所|旧住所|新住所|住所地|住所|所在地|居所|本籍地?|宛先|送付先|自宅|実家|転居先|転入先|転出先)")
_HOUSE_LEVEL = re.compile(r"番|号|\d[ ]?-[ ]?\d|丁目[ ]?\d")
_POSTAL = re.compile(r"(?:〒[ ]?)?(?<![0-9\-])\d{3}-\d{4}(?![0-9]|-\d)|〒[ ]?\d{7}(?!\d)")


def _trim_block(norm: str, start: int, end: int) -> int:
    while end > start and norm[end - 1] in "-の ":
        end -= 1
    return end


def _find_addresses(norm: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for m in _ADDRESS.finditer(norm):
        start, end = m.start(), _trim_block(norm, m.start(), m.end())
        label = _ADDRESS_LABEL.match(norm, start)
        if label:
            start = label.end()
            if not _AREA.match(norm, start):
                continue
        if not _HOUSE_LEVEL.search(norm[start:end]):
            continue
        out.append((start, end))
    for m in _POSTAL.finditer(norm):
        after = m.end()
        while after < len(norm) and after - m.end() < 2 and norm[after] == " ":
            after += 1
        hit = next((span for span in out if span[0] == after), None)
        if hit is not None:
            out.remove(hit)
            out.append((m.start(), hit[1]))
            continue
        area = _AREA.match(norm, after)
        if area and (re.match(_PREFS, norm[after:]) or re.match(_MUNI, norm[after:])):
            out.append((m.start(), area.end()))
    return out


# --------------------------------------------------------------------------- bank account
_ACCOUNT = re.compile(r"(?<![0-9\-])\d{7}(?![0-9]|-\d)")
_YUCHO = re.compile(r"記号[ ]?[:：]?[ ]?(\d{5})[ ]?[、,]?[ ]?番号[ ]?[:：]?[ ]?(\d{6,8})(?!\d)"
                    r"|(?<![0-9\-])(\d{5})-(\d{6,8})(?![0-9]|-\d)")


def _find_accounts(norm: str) -> list[tuple[int, int]]:
    out = []
    for m in _ACCOUNT.finditer(norm):
        if _nearest_label(norm, m.start()) == "account":
            out.append((m.start(), m.end()))
    for m in _YUCHO.finditer(norm):
        if m.group(1):
            out.append((m.start(1), m.end(2)))
        elif "ゆうちょ" in norm[max(0, m.start() - 30):m.start()] or _nearest_label(norm, m.start()) == "account":
            out.append((m.start(3), m.end(4)))
    return out


# --------------------------------------------------------------------------- birth date
_BIRTH_AFTER = re.compile(r"[ ]?[)）]?[ ]?(?:生まれ|生れ|生(?![活徒産じ涯命物計成])|誕生|出生)")
_RANGE_AFTER = re.compile(r"[ ]?(?:以前|以降|以後|まで|から|より|~|〜|～|-|の間)")


def _find_birth_dates(norm: str) -> list[tuple[int, int]]:
    out = []
    for m in DATE_ANY_FORM.finditer(norm):
        rest = norm[m.end():m.end() + 6]
        if _RANGE_AFTER.match(rest):
            continue
        if _BIRTH_AFTER.match(rest) or _nearest_label(norm, m.start(), 15) == "birth":
            out.append((m.start(), m.end()))
    return out


# --------------------------------------------------------------------------- person names
_HONORIFICS = frozenset(["様", "さま", "さん", "氏", "殿", "君", "くん", "ちゃん"])
_CHILD_HONORIFICS = frozenset(["君", "くん", "ちゃん"])
_NOT_GIVEN_NAMES = frozenset(
    "坊 ばあ じい 姉 兄 嬢 赤 母 父 孫 娘 息子 弟 妹 彼 彼女 僕 俺 私 皆 先輩 後輩 友達 子 おじ おば ねえ にい "
    "兄貴 お前 奴 王 姫 猫 犬 鳥 熊 豚 うさ 馬 亀 坊や 主 若 ちび 新人 部下 同期 相手 店員 客".split())
_NAME_LABELS = frozenset(
    "氏名 名前 お名前 申請者 相談者 届出人 世帯主 代理人 契約者 対象者 担当者 担当 本人 利用者 患者 児童 "
    "生徒 保護者 申出人 請求者 受給者 被保険者 通報者 来庁者 依頼者 報告者 記入者 差出人 宛名 名義 口座名義 名義人".split())
_TITLES = frozenset(
    "市長 副市長 町長 村長 区長 知事 副知事 議員 議長 副議長 大臣 総理 首相 教育長 委員長 局長 部長 課長 "
    "係長 室長 所長 館長 署長 会長 社長 理事長 院長 校長 先生 教授 監督 選手 代表 代議士 官房長官 長官 "
    "主任 主査 主事 主幹 参事 課長補佐 係員 補佐 次長 審議官 技師 保健師".split())
_SURNAME_HONORIFICS = frozenset(["様", "さま", "さん", "氏", "殿"])
_NOT_SURNAMES = frozenset(
    "神 王 皆 客 奥 姫 仏 主 殿 君 妃 嫁 婿 母 父 兄 姉 弟 妹 子 孫 店 家 大家 主人 旦那 親方 番頭 女将 師匠 殿様 "
    "坊主 和尚 住職 神主 巫女 医者 大将 親分 奥方 方 若松 お客".split())
# A full name right before these is part of a title, an award or a place, not a person being discussed.
_NAME_COMPOUND_NEXT = frozenset("賞 杯 記念 記念館 文学賞 通り 邸 像 文庫 神社 寺 家 流 派 氏 一族 財団 基金".split())
_PLACEHOLDER = re.compile(r"^(?:[A-Za-zＡ-Ｚａ-ｚ]{1,2}|[〇○◯●◎×✕△□■＊*＿_…・]+)$")
_KATAKANA = re.compile(r"^[ァ-ヺー]+$")
_ORGANISATION = re.compile(r"(?:コーポレーション|カンパニー|ショップ|ストア|サービス|システム|グループ|センター|クラブ|ホテル|"
                           r"工房|商店|興業|工業|産業|商事|建設|電機|製作所)$")


def _is_name_token(m) -> bool:
    pos = m.part_of_speech()
    s = m.surface()
    if pos[0] != "名詞" or pos[1] == "数詞" or _PLACEHOLDER.match(s):
        return False
    if s.isascii():
        return s.isalpha() and len(s) >= 3 and s[0].isupper() and pos[2] == "人名"
    if pos[2] == "人名":
        return True
    if pos[1] == "固有名詞" and pos[2] == "地名" and len(s) <= 3:
        return True
    if m.is_oov() and re.fullmatch(rf"[{_K}ァ-ヺー]+", s) and not _ORGANISATION.search(s):
        return True
    return False


@lru_cache(maxsize=4096)
def _surname_entry(surface: str) -> bool:
    from hideki.japanese.sudachi import dictionary

    return any(tuple(e.part_of_speech()[2:4]) == ("人名", "姓") for e in dictionary().lookup(surface))


def _could_be_surname(m) -> bool:
    s = m.surface()
    return (m.part_of_speech()[:2] == ("名詞", "普通名詞") and s not in _NOT_SURNAMES and not s.endswith("屋")
            and re.fullmatch(rf"[{_K}]{{1,4}}", s) is not None and _surname_entry(s))


def _names_before(tokens: list, i: int, honorific: str) -> tuple[int, int] | None:
    picked: list[int] = []
    j = i - 1
    while j >= 0 and len(picked) < 6:
        m = tokens[j]
        s = m.surface()
        if _is_name_token(m):
            picked.insert(0, j)
        elif s in (" ", "　") and picked and j > 0 and _is_name_token(tokens[j - 1]):
            picked.insert(0, j)
        elif s in ("・", "･", "=", "＝") and picked and j > 0 and _KATAKANA.match(tokens[j - 1].surface()) \
                and _KATAKANA.match(tokens[picked[0]].surface()):
            picked[:0] = [j - 1, j]
            j -= 2
            continue
        elif (honorific in _SURNAME_HONORIFICS and not picked and _could_be_surname(m)
              and not (j > 0 and tokens[j - 1].part_of_speech()[0] == "接頭辞")):
            picked.insert(0, j)  # 森殿, 小池様: a common noun that is also a surname, right before the honorific
        elif (honorific in _CHILD_HONORIFICS and not picked and m.part_of_speech()[:2] == ("名詞", "普通名詞")
              and 1 <= len(s) <= 3 and s not in _NOT_GIVEN_NAMES
              and re.fullmatch(rf"[{_K}ぁ-ゖ]+", s)
              and not (j > 0 and tokens[j - 1].part_of_speech()[0] == "接頭辞")):
            picked.insert(0, j)
        else:
            break
        j -= 1
    if not picked or not any(_is_name_token(tokens[k]) or _could_be_surname(tokens[k])
                             or honorific in _CHILD_HONORIFICS for k in picked):
        return None
    return tokens[picked[0]].begin(), tokens[picked[-1]].end()


def _tokens_with_offsets(text: str) -> list:
    from hideki.japanese.sudachi import pieces, tokenizer

    tok = tokenizer("C")
    out = []
    offset = 0
    for piece in pieces(text):
        for m in tok.tokenize(piece):
            out.append(_Tok(m, offset))
        offset += len(piece)
    return out


class _Tok:
    __slots__ = ("_m", "_offset", "_pos", "_surface")

    def __init__(self, m, offset: int) -> None:
        self._m, self._offset = m, offset
        self._pos = m.part_of_speech()
        self._surface = m.surface()

    def surface(self) -> str:
        return self._surface

    def part_of_speech(self):
        return self._pos

    def is_oov(self) -> bool:
        return self._m.is_oov()

    def begin(self) -> int:
        return self._m.begin() + self._offset

    def end(self) -> int:
        return self._m.end() + self._offset



def _find_names(text: str) -> list[tuple[int, int]]:
    tokens = _tokens_with_offsets(text)
    out: list[tuple[int, int]] = []
    n = len(tokens)
    for i, m in enumerate(tokens):
        s, pos = m.surface(), m.part_of_speech()
        if s in _HONORIFICS and pos[0] == "接尾辞":
            span = _names_before(tokens, i, s)
            if span:
                out.append(span)
        elif s in _NAME_LABELS:
            j = i + 1
            while j < n and tokens[j].surface() in (":", "：", " ", "　", "は", "、"):
                j += 1
            k = j
            while k < n and (_is_name_token(tokens[k]) or _KATAKANA.match(tokens[k].surface()) or (
                    tokens[k].surface() in (" ", "　") and k + 1 < n and k > j
                    and (_is_name_token(tokens[k + 1]) or _KATAKANA.match(tokens[k + 1].surface())))):
                k += 1
            if k > j and any(_is_name_token(tokens[x]) for x in range(j, k)) \
                    and not (k < n and tokens[k].surface() in _TITLES):
                out.append((tokens[j].begin(), tokens[k - 1].end()))
        elif pos[2:4] == ("人名", "姓"):
            k = i + 1
            if k < n and tokens[k].surface() in (" ", "　"):
                k += 1
            if k < n and tokens[k].part_of_speech()[2:4] == ("人名", "名"):
                nxt = tokens[k + 1].surface() if k + 1 < n else ""
                name = tokens[k].surface()
                glued = len(name) == 1 and re.match(rf"[{_K}]", nxt)  # 斎藤|一|軍: 一軍, not a given name
                if nxt not in _TITLES and nxt not in _NAME_COMPOUND_NEXT and name[-1:] + nxt not in _TITLES \
                        and not glued:
                    out.append((m.begin(), tokens[k].end()))
    return out


# --------------------------------------------------------------------------- public API
_FINDERS = {
    "my_number": _find_my_numbers,
    "phone": _find_phones,
    "email": _find_emails,
    "postal_address": _find_addresses,
    "bank_account": _find_accounts,
    "birth_date": _find_birth_dates,
}


def find_pii(text: str, categories: Iterable[str] | None = None) -> list[Finding]:
    """Personal information in `text`: non-overlapping findings sorted by position."""
    wanted = list(CATEGORIES) if categories is None else list(categories)
    unknown = [c for c in wanted if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown PII categories: {', '.join(unknown)}")
    if not text:
        return []
    norm = _normalise(text)
    candidates: list[tuple[str, int, int]] = []
    for category in wanted:
        if category == "person_name":
            spans = _find_names(text)
        else:
            spans = _FINDERS[category](norm)
        candidates += [(category, s, e) for s, e in spans if e > s]
    candidates.sort(key=lambda c: (_PRIORITY[c[0]], c[1], -(c[2] - c[1])))
    taken: list[tuple[str, int, int]] = []
    for cat, s, e in candidates:
        if all(e <= ts or s >= te for _, ts, te in taken):
            taken.append((cat, s, e))
    taken.sort(key=lambda c: c[1])
    return [Finding(cat, s, e, text[s:e]) for cat, s, e in taken]


def mask(text: str, findings: Iterable[Finding] | None = None) -> tuple[str, dict[str, str]]:
    """`text` with each finding replaced by ［ラベルN］ (the same value gets the same placeholder) and the
    mapping placeholder → original."""
    if findings is None:
        findings = find_pii(text)
    ordered = sorted(findings, key=lambda f: f.start)
    counters: Counter[str] = Counter()
    by_value: dict[tuple[str, str], str] = {}
    mapping: dict[str, str] = {}
    parts: list[str] = []
    last = 0
    for f in ordered:
        if f.start < last:
            continue  # overlapping findings: the first one wins
        original = text[f.start:f.end]
        key = (f.category, original)
        if key not in by_value:
            counters[f.category] += 1
            placeholder = f"［{LABELS[f.category]}{counters[f.category]}］"
            by_value[key] = placeholder
            mapping[placeholder] = original
        parts += [text[last:f.start], by_value[key]]
        last = f.end
    parts.append(text[last:])
    return "".join(parts), mapping


_OPEN, _CLOSE = r"[［\[【〔〖(（<＜「『]", r"[］\]】〕〗)）>＞」』]"


def restore(text: str, mapping: dict[str, str]) -> str:
    """Put the originals back into a model's reply. Accepts the placeholders with other bracket shapes or
    widths, spaces inside, full-width digits, or without brackets at all."""
    if not mapping:
        return text
    canonical: dict[tuple[str, str], str] = {}
    for placeholder, original in mapping.items():
        m = re.fullmatch(r"［(.+?)(\d+)］", placeholder)
        if m:
            canonical[(m.group(1), m.group(2))] = original
    if not canonical:
        return text
    labels = "|".join(sorted({re.escape(k[0]) for k in canonical}, key=len, reverse=True))
    pattern = re.compile(
        rf"{_OPEN}[ 　]*({labels})[ 　]*([0-9０-９]+)[ 　]*{_CLOSE}|(?<![0-9０-９])({labels})([0-9０-９]+)(?![0-9０-９])"
    )

    def swap(m: re.Match) -> str:
        label = m.group(1) or m.group(3)
        number = unicodedata.normalize("NFKC", m.group(2) or m.group(4))
        return canonical.get((label, number), m.group())

    return pattern.sub(swap, text)


def describe(findings: Iterable[Finding]) -> str:
    """A short Japanese summary, e.g. 「個人情報の可能性: 氏名 2件、電話番号 1件」."""
    counts = Counter(f.category for f in findings)
    if not counts:
        return "個人情報は見つかりませんでした"
    parts = [f"{LABELS[c]} {counts[c]}件" for c in CATEGORIES if counts[c]]
    return "個人情報の可能性: " + "、".join(parts)
