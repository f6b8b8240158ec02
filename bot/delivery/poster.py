"""Editing and posting a job's messages: through the interaction's webhook while its token works
(those requests are exempt from the bot's global rate limit), then with the bot's own token."""

import logging
from collections import OrderedDict

import discord
from discord.webhook.async_ import async_context

from bot.delivery import render
from bot.delivery.deliveries import Delivery

INVALID_WEBHOOK_TOKEN = 50027
"""Discord's code for an interaction token past its 15 minutes."""
CANNOT_MESSAGE_USER = 50007
"""Discord's code for a member whose DMs are closed to the bot."""
_EXPIRED_KEPT = 10_000
"""Jobs whose interaction token Discord already refused, remembered so it is not tried again."""

log = logging.getLogger(__name__)


def refused(error: discord.HTTPException) -> bool:
    """Whether Discord refused the request itself (a 4xx other than a rate limit): sending it again
    cannot help, so the member must be told another way."""
    return 400 <= error.status < 500 and error.status != 429


class Poster:
    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._expired: OrderedDict[str, None] = OrderedDict()

    async def edit_waiting(
        self,
        delivery: Delivery,
        *,
        content: str,
        attachments: list[discord.File] | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """Rewrites the waiting message; `attachments` replaces its files when given."""
        if delivery.message_id is None or (delivery.direct and not self._token_works(delivery)):
            return  # an ephemeral message is out of reach once the token expires
        edit: dict = {"content": content, "view": view, "allowed_mentions": render.mentions(delivery)}
        if attachments is not None:
            edit["attachments"] = attachments
        if self._token_works(delivery):
            try:
                await self._webhook(delivery).edit_message(delivery.message_id, **edit)
                return
            except discord.HTTPException as error:
                if not self._token_expired(delivery, error):
                    raise
        await self._waiting_message(delivery).edit(**edit)

    async def delete_waiting(self, delivery: Delivery) -> None:
        """Removes the waiting message; one already gone is fine.

        While the token works, `@original` finds it even when its id was never recorded (a bot
        that died between Discord's answer and the record); later only a recorded id can. A follow-up
        waiting message not recorded yet is left to the side that records it, which deletes it on
        finding the result posted.
        """
        try:
            if self._token_works(delivery):
                try:
                    await self._delete_through_webhook(delivery)
                    return
                except discord.HTTPException as error:
                    if not self._token_expired(delivery, error):
                        raise
            if delivery.message_id is not None and not delivery.direct:
                await self._waiting_message(delivery).delete()
        except discord.NotFound:
            pass

    async def _delete_through_webhook(self, delivery: Delivery) -> None:
        webhook = self._webhook(delivery)
        if delivery.message_id is not None:
            await webhook.delete_message(delivery.message_id)
            return
        if delivery.followup:  # `@original` is another job's waiting message
            return
        # discord.py keeps `@original` to Interaction objects; this is the request they send.
        adapter = async_context.get()
        await adapter.delete_original_interaction_response(
            webhook.id,
            delivery.interaction_token,
            session=webhook.session,
            proxy=webhook.proxy,
            proxy_auth=webhook.proxy_auth,
        )

    async def post(
        self, delivery: Delivery, *, content: str, file: discord.File | None, view: discord.ui.View | None
    ) -> int:
        """A new message from the bot in the channel, or in the member's DMs for a direct delivery
        (in the channel after all when their DMs are closed); returns its id.

        The nonce is fixed per job and enforced, so Discord itself refuses a second copy when a
        post is repeated after a crash between Discord's answer and our record of it.
        """
        send = {
            "content": content,
            "file": file or discord.utils.MISSING,
            "view": view or discord.utils.MISSING,
            "allowed_mentions": render.mentions(delivery),
            "nonce": delivery.job_id[:25],
        }
        if delivery.direct:
            try:
                dm = await self._client.create_dm(discord.Object(delivery.requester_id))
                return (await dm.send(**send)).id
            except discord.Forbidden as error:
                if error.code != CANNOT_MESSAGE_USER:
                    raise
                send["content"] = f"{content}\n-# {render.DMS_CLOSED}"
                if file is not None:
                    file.reset()
        channel = self._client.get_partial_messageable(delivery.channel_id, guild_id=delivery.guild_id)
        return (await channel.send(**send)).id

    async def tell_requester(self, delivery: Delivery, content: str) -> int | None:
        """A message only the requester sees, through the interaction's webhook: for when Discord
        refuses the bot's messages in the channel. None when the token no longer works either."""
        if not self._token_works(delivery):
            log.error("job %s: no way left to tell the member: %s", delivery.job_id, content)
            return None
        try:
            message = await self._webhook(delivery).send(
                content, ephemeral=True, wait=True, allowed_mentions=render.mentions(delivery)
            )
        except discord.HTTPException as error:
            if not refused(error):
                raise
            log.error("job %s: Discord refused every way to tell the member (%s)", delivery.job_id, error)
            return None
        return message.id

    def _token_works(self, delivery: Delivery) -> bool:
        return delivery.token_usable() and delivery.job_id not in self._expired

    def _token_expired(self, delivery: Delivery, error: discord.HTTPException) -> bool:
        """Whether `error` says the interaction token expired; if so it is remembered, so the job's
        next requests go straight to the bot's own token."""
        if error.code != INVALID_WEBHOOK_TOKEN:
            return False
        self._expired[delivery.job_id] = None
        while len(self._expired) > _EXPIRED_KEPT:
            self._expired.popitem(last=False)
        return True

    def _webhook(self, delivery: Delivery) -> discord.Webhook:
        return discord.Webhook.partial(
            delivery.application_id, delivery.interaction_token, client=self._client
        )

    def _waiting_message(self, delivery: Delivery) -> discord.PartialMessage:
        channel = self._client.get_partial_messageable(delivery.channel_id, guild_id=delivery.guild_id)
        return channel.get_partial_message(delivery.message_id or 0)
