"""Files back to the user over HTTP: Teams' file-consent flow in a 1:1 chat (consent card → fileConsent/invoke →
upload → file info card), a declined offer, unknown and malformed consents, and the one-line hint in channels."""
from __future__ import annotations

import io

import docx

from bot.files import CONSENT_CARD, CONTEXT_KEY, FILE_INFO_CARD
from tests.support import activities as A

NOTICE = ("令和7年4月1日から、市役所本庁舎1階の市民課窓口で住民票の写しの交付申請を受け付けます。"
          "手続きには、本人確認書類が必要となりますので、ご持参くださいますようお願い申し上げます。")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def notice_docx() -> bytes:
    document = docx.Document()
    document.add_heading("住民票の写しの交付について", level=1)
    document.add_paragraph(NOTICE)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def consent_cards(connector) -> list[dict]:
    return [a for s in connector.messages() for a in s.body.get("attachments") or [] if a["contentType"] == CONSENT_CARD]


def upload_info(connector, name: str) -> dict:
    return {"contentUrl": f"https://contoso.sharepoint.com/personal/staff/Documents/Applications/{name}",
            "name": name, "uploadUrl": connector.upload_url(name), "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": "docx"}


async def send_notice(bot, connector) -> dict:
    url = connector.file_url("notice.docx", notice_docx())
    await bot.post(A.personal_message(connector.url, "", attachments=[A.file_attachment("notice.docx", url)]))
    await bot.drain()
    [card] = consent_cards(connector)
    return card


async def test_a_notice_in_a_personal_chat_comes_back_as_a_word_file_after_consent(start_bot, connector):
    bot = await start_bot()
    card = await send_notice(bot, connector)
    answer = [t for t in connector.final_texts().values() if "Word 文書を作りました" in t]
    assert answer and "📏 1文の平均" in answer[0]  # the chat answer, with the measures
    assert card["name"] == "notice_やさしい日本語.docx"
    content = card["content"]
    assert content["sizeInBytes"] > 0 and content["description"]
    assert set(content["acceptContext"]) == {CONTEXT_KEY}  # only an id: the bytes stay on the server

    name = card["name"]
    response = await bot.post(A.file_consent_invoke(connector.url, "accept", content["acceptContext"],
                                                    upload_info(connector, name)))
    assert response.status == 200
    [upload] = connector.uploads
    size = content["sizeInBytes"]
    assert len(upload.data) == size
    assert upload.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert "Authorization" not in upload.headers  # the bot's token never goes to the upload URL
    rewritten = docx.Document(io.BytesIO(upload.data))
    assert rewritten.paragraphs[0].style.name == "Heading 1"
    assert rewritten.element.body.findall(".//{*}ruby")  # Word ruby over the kanji
    [info] = [a for s in connector.messages() for a in s.body.get("attachments") or [] if a["contentType"] == FILE_INFO_CARD]
    assert info["contentUrl"].endswith(name) and info["name"] == name
    assert info["content"] == {"uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D", "fileType": "docx"}

    again = await bot.post(A.file_consent_invoke(connector.url, "accept", content["acceptContext"],
                                                 upload_info(connector, name)))
    assert again.status == 200 and len(connector.uploads) == 1  # uploaded once; the second click is told so
    await connector.wait_for(lambda: "すでに送り終えています" in list(connector.final_texts().values())[-1])


async def test_a_declined_file_is_not_uploaded_and_the_user_is_told(start_bot, connector):
    bot = await start_bot()
    card = await send_notice(bot, connector)
    response = await bot.post(A.file_consent_invoke(connector.url, "decline", card["content"]["declineContext"]))
    assert response.status == 200
    assert connector.uploads == []
    await connector.wait_for(lambda: "送りませんでした" in list(connector.final_texts().values())[-1])
    accept_later = await bot.post(A.file_consent_invoke(connector.url, "accept", card["content"]["acceptContext"],
                                                        upload_info(connector, card["name"])))
    assert accept_later.status == 200 and connector.uploads == []  # the stored file is gone


async def test_unknown_expired_and_malformed_consents_never_give_a_500(start_bot, connector):
    bot = await start_bot()
    unknown = await bot.post(A.file_consent_invoke(connector.url, "accept", {CONTEXT_KEY: "no-such-file"},
                                                   upload_info(connector, "x.docx")))
    assert unknown.status == 200
    await connector.wait_for(lambda: any("保存期間を過ぎた" in t for t in connector.final_texts().values()))
    for value in ({"action": "accept", "context": {}}, {"action": "maybe", "context": {CONTEXT_KEY: "a"}},
                  {"action": "accept", "context": {CONTEXT_KEY: "a"}, "uploadInfo": {"uploadUrl": "ftp://x"}}, "text"):
        activity = A.file_consent_invoke(connector.url, "accept", {})
        activity["value"] = value
        response = await bot.post(activity)
        assert response.status == 400, value
        assert "message" in (await response.json())["error"]
    assert connector.uploads == []


async def test_a_file_offered_in_another_conversation_is_not_uploaded(start_bot, connector):
    bot = await start_bot()
    card = await send_notice(bot, connector)
    response = await bot.post(A.file_consent_invoke(connector.url, "accept", card["content"]["acceptContext"],
                                                    upload_info(connector, card["name"]), conversation="a:personal-other"))
    assert response.status == 200 and connector.uploads == []


async def test_a_failed_upload_is_said_in_one_line_and_answered_200(start_bot, connector):
    bot = await start_bot()
    card = await send_notice(bot, connector)
    connector.upload_status = 403
    response = await bot.post(A.file_consent_invoke(connector.url, "accept", card["content"]["acceptContext"],
                                                    upload_info(connector, card["name"])))
    assert response.status == 200
    await connector.wait_for(lambda: "保存できませんでした" in list(connector.final_texts().values())[-1])


async def test_in_a_channel_the_answer_says_to_use_a_personal_chat_for_the_file(start_bot, connector):
    bot = await start_bot(bindings={"19:easy@thread.tacv2": "yasashii"})
    await bot.post(A.channel_message(connector.url, NOTICE, channel_id="19:easy@thread.tacv2"))
    await bot.drain()
    [answer] = [t for t in connector.final_texts().values() if "📏" in t]
    hints = [line for line in answer.split("\n") if "1対1チャット" in line]
    assert len(hints) == 1 and "やさしい日本語.docx" in hints[0] and "送れません" in hints[0]
    assert consent_cards(connector) == []  # bots cannot upload in channels


async def test_a_transcript_docx_still_goes_to_minutes_and_comes_back_as_minutes_docx(start_bot, connector):
    from pathlib import Path

    meetings = Path(__file__).parent / "fixtures" / "meetings"
    bot = await start_bot()
    url = connector.file_url("kosodate.docx", (meetings / "05_kosodate.docx").read_bytes())
    await bot.post(A.personal_message(connector.url, "", attachments=[A.file_attachment("kosodate.docx", url)]))
    await bot.drain()
    assert any("**決定事項**" in t for t in connector.final_texts().values())
    [card] = consent_cards(connector)
    assert card["name"] == "kosodate_議事録.docx"
