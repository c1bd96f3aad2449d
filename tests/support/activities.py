"""Real Bot Framework activities as Teams sends them (trimmed to the fields that matter)."""
from __future__ import annotations

import itertools
import json
from typing import Any

BOT_ID = "28:hideki-bot"
BOT_NAME = "Hideki"
_ids = itertools.count(1000)


def _common(service_url: str, conversation: dict[str, Any], user_id: str, aad: str, name: str) -> dict[str, Any]:
    return {
        "id": f"msg-{next(_ids)}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "timestamp": "2026-11-23T09:00:00.000Z",
        "from": {"id": user_id, "name": name, "aadObjectId": aad},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": conversation,
        "locale": "ja-JP",
    }


def channel_message(
    service_url: str,
    text: str,
    *,
    channel_id: str = "19:general@thread.tacv2",
    channel_name: str | None = None,
    team_id: str = "19:team@thread.tacv2",
    aad: str = "aad-staff-1",
    mention: bool = True,
    root_id: str | None = None,
) -> dict[str, Any]:
    """A channel post that @mentions the bot, as Teams sends it (HTML-ish text with <at>)."""
    activity = _common(
        service_url,
        {"id": f"{channel_id};messageid={root_id or 'ROOT'}", "conversationType": "channel", "isGroup": True, "tenantId": "tenant-1"},
        "29:staff-1",
        aad,
        "世田谷 花子",
    )
    if root_id is None:  # a new post: the thread root is the message itself
        activity["conversation"]["id"] = f"{channel_id};messageid={activity['id']}"
    channel: dict[str, Any] = {"id": channel_id}
    if channel_name:
        channel["name"] = channel_name
    activity.update(
        type="message",
        text=(f"<at>{BOT_NAME}</at> {text}" if mention else text),
        textFormat="plain",
        channelData={"teamsChannelId": channel_id, "teamsTeamId": team_id, "channel": channel, "team": {"id": team_id}, "tenant": {"id": "tenant-1"}},
        entities=[{"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}}] if mention else [],
    )
    return activity


def personal_message(service_url: str, text: str, *, user: str = "29:staff-2", aad: str = "aad-staff-2", attachments: list | None = None) -> dict[str, Any]:
    activity = _common(service_url, {"id": f"a:personal-{user}", "conversationType": "personal", "tenantId": "tenant-1"}, user, aad, "砧 太郎")
    activity.update(type="message", text=text, textFormat="plain", channelData={"tenant": {"id": "tenant-1"}})
    if attachments:
        activity["attachments"] = attachments
    return activity


def install_update(service_url: str, *, channel_id: str = "19:general@thread.tacv2", team_id: str = "19:team@thread.tacv2") -> dict[str, Any]:
    """conversationUpdate sent when the app is added to a team."""
    activity = _common(service_url, {"id": channel_id, "conversationType": "channel", "isGroup": True, "tenantId": "tenant-1"}, "29:admin", "aad-admin", "管理者")
    activity.update(
        type="conversationUpdate",
        membersAdded=[{"id": BOT_ID}],
        channelData={"eventType": "teamMemberAdded", "team": {"id": team_id, "name": "総務課"}, "tenant": {"id": "tenant-1"}},
    )
    return activity


def card_invoke(service_url: str, data: dict[str, Any], *, conversation: str = "a:personal-29:staff-2") -> dict[str, Any]:
    activity = _common(service_url, {"id": conversation, "conversationType": "personal", "tenantId": "tenant-1"}, "29:staff-2", "aad-staff-2", "砧 太郎")
    activity.update(type="invoke", name="adaptiveCard/action", value={"action": {"type": "Action.Execute", "verb": "hideki", "data": data}})
    return activity


def file_attachment(name: str, url: str) -> dict[str, Any]:
    """A file sent in a 1:1 chat, as Teams offers it to bots (file download info)."""
    return {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": name,
        "content": {"downloadUrl": url, "uniqueId": "file-1", "fileType": name.rsplit(".", 1)[-1]},
    }


def feedback_invoke(service_url: str, reply_to_id: str, value: Any, *, conversation: dict[str, Any] | None = None) -> dict[str, Any]:
    """Teams' own 👍/👎 under a bot message: `message/submitAction` with actionName "feedback"."""
    conversation = conversation or {"id": "a:personal-29:staff-2", "conversationType": "personal", "tenantId": "tenant-1"}
    activity = _common(service_url, conversation, "29:staff-2", "aad-staff-2", "砧 太郎")
    activity.update(type="invoke", name="message/submitAction", replyToId=reply_to_id, value=value,
                    channelData={"tenant": {"id": "tenant-1"}})
    return activity


def feedback_value(reaction: str, comment: str = "") -> dict[str, Any]:
    return {"actionName": "feedback", "actionValue": {"reaction": reaction, "feedback": json.dumps({"feedbackText": comment}, ensure_ascii=False)}}


def file_consent_invoke(service_url: str, action: str, context: dict[str, Any], upload_info: dict[str, Any] | None = None,
                        *, conversation: str = "a:personal-29:staff-2") -> dict[str, Any]:
    """The invoke Teams sends when the user presses Allow or Decline on a file consent card."""
    activity = _common(service_url, {"id": conversation, "conversationType": "personal", "tenantId": "tenant-1"},
                       "29:staff-2", "aad-staff-2", "砧 太郎")
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
    if upload_info is not None:
        value["uploadInfo"] = upload_info
    activity.update(type="invoke", name="fileConsent/invoke", value=value, replyToId="bot-consent-card")
    return activity
