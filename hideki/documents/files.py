"""Safe file handling for documents: refuse bad input with a Japanese message, write output atomically.

    check_input(path)                         # DocumentError for encrypted/corrupt/.docm/too large files
    write_atomically(path, document.save)     # a temp file next to `path`, renamed only when complete
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MAX_BYTES = 50 * 1024 * 1024          # the same limit as the FAQ import
MAX_UNPACKED_BYTES = 10 * MAX_BYTES   # a zip that unpacks to more than this is refused (zip bomb)

TEXT_SUFFIXES = (".txt", ".md")
INPUT_SUFFIXES = (".docx", ".txt", ".md", ".pdf")
OUTPUT_SUFFIXES = (".docx", ".html")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTION = "EncryptionInfo".encode("utf-16-le")
_MACRO_CONTENT_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"
_WORD_MAIN = "word/document.xml"
CORRUPT_MESSAGE = "Word 文書（.docx）として読めません。ファイルが壊れているか、別の形式です。Word で開けるかを確認し、保存し直してください。"


class DocumentError(ValueError):
    """A file we will not read or write; the message is for staff (Japanese) and says what to do."""


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def check_input(path: Path, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a file before reading it whole: unknown type, too large, encrypted, old .doc, .docm, not a zip."""
    suffix = path.suffix.lower()
    if suffix == ".docm":
        raise DocumentError("マクロ付きの Word 文書（.docm）は扱いません。マクロを含まない Word 文書（.docx）で保存し直してください。")
    if suffix == ".doc":
        raise DocumentError("古い形式の Word 文書（.doc）には対応していません。Word で開き、.docx 形式で保存し直してください。")
    if suffix not in INPUT_SUFFIXES:
        raise DocumentError(f"{suffix or '拡張子のない'} ファイルには対応していません。対応している形式: .docx、.txt、.md、.pdf。")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError(f"ファイルが見つかりません: {path}") from None
    except OSError:
        raise DocumentError(f"ファイルを開けませんでした。権限があるかを確認してください: {path}") from None
    if size > max_bytes:
        raise DocumentError(f"ファイルが大きすぎます（{megabytes(size)}）。上限は {megabytes(max_bytes)} です。文書を分けてください。")
    if size == 0:
        raise DocumentError("ファイルが空です。内容を確認してください。")
    if suffix == ".docx":
        _check_word_container(path)


def _check_word_container(path: Path) -> None:
    with path.open("rb") as f:
        head = f.read(len(_OLE_MAGIC))
        if head == _OLE_MAGIC:
            f.seek(0)
            if _OLE_ENCRYPTION in f.read():
                raise DocumentError("パスワードで保護されているため読めません。Word で保護を外して保存し直してから、もう一度試してください。")
            raise DocumentError("古い形式の Word 文書（.doc）のようです。Word で開き、.docx 形式で保存し直してください。")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
                types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            raise DocumentError(CORRUPT_MESSAGE) from None
    if _MACRO_CONTENT_TYPE.encode() in types:
        raise DocumentError("マクロ付きの Word 文書です。マクロを含まない Word 文書（.docx）で保存し直してください。")
    if _WORD_MAIN not in names or not types:
        raise DocumentError(CORRUPT_MESSAGE)
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(f"文書の展開後の大きさが上限を超えています（{megabytes(unpacked)}）。文書を分けてください。")



def read_text(path: Path) -> str:
    """A .txt/.md file as text: UTF-8 (with or without BOM), UTF-16 with BOM, or Shift_JIS (CP932)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp932")
    for encoding in encodings:
        try:
            return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise DocumentError("文字コードを判別できませんでした。UTF-8 で保存し直してください。")


def read_pdf_text(path: Path) -> str:
    """The text layer of a PDF, page by page; DocumentError when it is encrypted, broken or only images."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("パスワードで保護された PDF のため読めません。保護を外してから、もう一度試してください。")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise DocumentError("PDF を読めませんでした。ファイルが壊れている可能性があります。元の文書から PDF を作り直してください。") from None
    text = "\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise DocumentError("この PDF には文字の情報がありません（画像だけの PDF です）。この環境では文字認識（OCR）を使えません。"
                            "元の Word 文書かテキストを使ってください。")
    return text


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call `write` on a temp file in `path`'s folder and rename it to `path` only when it succeeded."""
    path = Path(path)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
