"""The Teams activity handler: thin, it only sorts activities — messages and card buttons to the intake, file
consent answers to bot/files.py, the welcome when the bot is added, channel names when channels are created or
renamed."""
from __future__ import annotations

import logging

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import ActionTypes, CardAction, ChannelAccount
from botbuilder.schema.teams import ChannelInfo, TeamInfo

from bot.activity import parse_activity
from bot.commands import Commands
from bot.delivery import teams_markdown
from bot.files import FileOffers
from bot.intake import Intake
from hideki.state.stores import BindingStore

log = logging.getLogger(__name__)


class HidekiBot(TeamsActivityHandler):
    def __init__(self, intake: Intake, commands: Commands, bindings: BindingStore, files: FileOffers) -> None:
        self._intake = intake
        self._files = files
        self._commands = commands
        self._bindings = bindings

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        value = turn_context.activity.value
        if isinstance(value, dict) and value.get("hideki_action"):  # Action.Submit from our cards
            await self._intake.on_action(turn_context, value)
            return
        await self._intake.on_message(turn_context)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        """The welcome, when the bot itself is added (in Teams, the SDK's on_teams_members_added comes here too)."""
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            place = parse_activity(turn_context.activity).place
            text = teams_markdown(self._commands.welcome_text(place))
            if place.kind != "personal":  # Teams shows suggested actions in 1:1 chats only
                await turn_context.send_activity(text)
                return
            actions = [CardAction(type=ActionTypes.im_back, title=s if len(s) <= 20 else s[:19] + "…", value=s)
                       for s in self._commands.suggestions(place)]
            await turn_context.send_activity(MessageFactory.suggested_actions(actions, text))

    async def on_teams_channel_created(self, channel_info: ChannelInfo, team_info: TeamInfo, turn_context: TurnContext) -> None:
        if channel_info and channel_info.id and channel_info.name:
            self._bindings.remember_name(channel_info.id, channel_info.name)

    on_teams_channel_renamed = on_teams_channel_created

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name == "message/submitAction":  # Teams' own 👍/👎 under an answer (bot/entities.py)
            try:
                return await self._intake.on_feedback(turn_context)
            except Exception:
                log.exception("feedback not stored")
                return InvokeResponse(status=200)
        if activity.name == "adaptiveCard/action":  # Action.Execute from our cards
            value = activity.value if isinstance(activity.value, dict) else {}
            action = value.get("action") if isinstance(value.get("action"), dict) else {}
            data = action.get("data")
            if isinstance(data, dict) and data.get("hideki_action"):
                await self._intake.on_action(turn_context, data)
            return InvokeResponse(
                status=200,
                body={"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": "受け付けました。"},
            )
        if activity.name == "fileConsent/invoke":  # the user allowed or declined a file we offered
            return await self._files.on_consent(turn_context)
        try:
            response = await super().on_invoke_activity(turn_context)
        except Exception:
            log.warning("invoke not handled", extra={"invoke": activity.name}, exc_info=True)
            return InvokeResponse(status=200)
        # the SDK answers invokes it does not implement with 501; to Teams "nothing to do" is a 200
        if response is None or response.status == 501:
            return InvokeResponse(status=200)
        return response
