"""The gateway: HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats, RESUME with replay, and the
faults Discord sends (RECONNECT, INVALID_SESSION, dropped connections).

Each connection writes through one queue, so frames leave in the order they were published."""

import asyncio
import contextlib
import json
import secrets
import zlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from emulator.world import GUILDS_INTENT, World

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE, RESUME = 0, 1, 2, 3, 4, 6
RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 7, 8, 9, 10, 11
HEARTBEAT_INTERVAL_MS = 41250
ACK_DELAY = 0.05
BACKLOG = 1000
"""Dispatches kept per session for RESUME; a client further behind must identify again."""
# GATEWAY_GUILD_MEMBERS_LIMITED, GATEWAY_MESSAGE_CONTENT_LIMITED, APPLICATION_COMMAND_BADGE: a
# verified-free bot that may use the privileged intents.
APPLICATION_FLAGS = (1 << 15) | (1 << 19) | (1 << 23)


class Connection:
    """One WebSocket; frames are JSON text, or zlib-stream binary when the client asked for it."""

    def __init__(self, socket: web.WebSocketResponse, request: web.Request, *, compress: bool) -> None:
        self.socket = socket
        self.session: Session | None = None
        self.closed_by_server = False
        self._request = request
        self._outbox: asyncio.Queue[dict[str, Any] | int] = asyncio.Queue()
        self._compressor = zlib.compressobj() if compress else None
        self._writer = asyncio.create_task(self._write())

    def send(self, frame: dict[str, Any]) -> None:
        self._outbox.put_nowait(frame)

    def send_op(self, op: int, data: Any = None) -> None:
        self.send({"op": op, "d": data, "s": None, "t": None})

    def close(self, code: int) -> None:
        """Closes with `code` once the frames queued before it are sent."""
        self.closed_by_server = True
        self._outbox.put_nowait(code)

    def abort(self) -> None:
        """Drops the TCP connection with no close frame, as a network failure would."""
        if self._request.transport is not None:
            self._request.transport.abort()

    async def stop(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                item = await self._outbox.get()
                if isinstance(item, int):
                    await self.socket.close(code=item)
                    return
                text = json.dumps(item)
                if self._compressor is None:
                    await self.socket.send_str(text)
                else:
                    data = self._compressor.compress(text.encode()) + self._compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.socket.send_bytes(data)


@dataclass(eq=False)
class Session:
    id: str
    intents: int
    shard: list[int] | None = None
    seq: int = 0
    connection: Connection | None = None
    backlog: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=BACKLOG))

    def publish(self, event: str, data: Any) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.backlog.append(frame)
        if self.connection is not None:
            self.connection.send(frame)

    def can_replay_after(self, seq: object) -> bool:
        first = self.backlog[0]["s"] if self.backlog else self.seq + 1
        return isinstance(seq, int) and first - 1 <= seq <= self.seq


class Gateway:
    def __init__(self, world: World, *, token: str, application_id: int) -> None:
        self.url = ""
        """This gateway's address, which READY gives as `resume_gateway_url`."""
        self.identify_count = 0
        self.resume_count = 0
        self._world = world
        self._token = token
        self._application_id = application_id
        self._sessions: dict[str, Session] = {}
        self._connections: set[Connection] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connection = Connection(socket, request, compress=request.query.get("compress") == "zlib-stream")
        self._connections.add(connection)
        connection.send_op(HELLO, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["emulator"]})
        try:
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    connection.close(4002)  # Decode error: only JSON text is understood
                    continue
                try:
                    payload = json.loads(message.data)
                except ValueError:
                    connection.close(4002)
                    continue
                self._receive(connection, payload)
        finally:
            self._connections.discard(connection)
            self._detach(connection)
            await connection.stop()
        return socket

    def publish(self, event: str, data: Any, *, intent: int | None = None) -> None:
        """Dispatches to every identified session (replayed on RESUME to one that is disconnected)."""
        for session in self._sessions.values():
            if intent is None or session.intents & intent:
                session.publish(event, data)

    def reconnect(self) -> None:
        for connection in self._connections:
            connection.send_op(RECONNECT)

    def invalidate_sessions(self, resumable: bool) -> None:
        for connection in self._connections:
            if connection.session is not None:
                connection.send_op(INVALID_SESSION, resumable)
        if not resumable:
            self._sessions.clear()

    def drop_connections(self) -> None:
        for connection in self._connections:
            connection.abort()

    def close_all(self) -> None:
        for connection in self._connections:
            connection.close(1001)  # Going away

    def _receive(self, connection: Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            # discord.py times a heartbeat from when its sending thread sees the send complete; an ACK
            # faster than that reads as a 41 s latency ("Can't keep up"), so answer as a network would.
            asyncio.get_running_loop().call_later(ACK_DELAY, connection.send_op, HEARTBEAT_ACK)
        elif op == IDENTIFY:
            self._identify(connection, data)
        elif op == RESUME:
            self._resume(connection, data)
        elif connection.session is None:
            connection.close(4003)  # Not authenticated
        elif op == REQUEST_MEMBERS:
            self._members_chunk(connection.session, data)
        elif op not in (PRESENCE, VOICE_STATE):
            connection.close(4001)  # Unknown opcode

    def _identify(self, connection: Connection, data: Any) -> None:
        if connection.session is not None:
            connection.close(4005)  # Already authenticated
            return
        if not isinstance(data, dict) or data.get("token") != self._token:
            connection.close(4004)  # Authentication failed
            return
        session = Session(secrets.token_hex(16), int(data.get("intents") or 0), data.get("shard"))
        self._sessions[session.id] = session
        self.identify_count += 1
        self._attach(connection, session)
        session.publish("READY", self._ready(session))
        if session.intents & GUILDS_INTENT:
            session.publish("GUILD_CREATE", self._world.guild_create(session.intents))

    def _resume(self, connection: Connection, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        session = self._sessions.get(data.get("session_id"))
        if (
            session is None
            or data.get("token") != self._token
            or not session.can_replay_after(data.get("seq"))
        ):
            connection.send_op(INVALID_SESSION, False)
            return
        if session.connection is not None and session.connection is not connection:
            session.connection.session = None
            session.connection.close(4000)
        self._attach(connection, session)
        for frame in session.backlog:
            if frame["s"] > data["seq"]:
                connection.send(frame)
        self.resume_count += 1
        session.publish("RESUMED", {"_trace": ["emulator"]})

    def _detach(self, connection: Connection) -> None:
        """A session outlives its connection, for RESUME, unless the client closed with 1000 or 1001:
        Discord then ends the session (the bot goes offline)."""
        session = connection.session
        if session is None or session.connection is not connection:
            return
        session.connection = None
        if not connection.closed_by_server and connection.socket.close_code in (1000, 1001):
            self._sessions.pop(session.id, None)

    def _attach(self, connection: Connection, session: Session) -> None:
        connection.session = session
        session.connection = connection

    def _ready(self, session: Session) -> dict[str, Any]:
        user = {**self._world.user_payload(self._world.bot_user_id), "verified": True, "mfa_enabled": False}
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**user, "email": None},
            "user_settings": {},
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guild_join_requests": [],
            "guilds": [{"id": str(self._world.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "application": {"id": str(self._application_id), "flags": APPLICATION_FLAGS},
            "geo_ordered_rtc_regions": [],
            "_trace": ["emulator"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        return ready

    def _members_chunk(self, session: Session, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        wanted = {int(user_id) for user_id in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        members = [
            self._world.member_payload(user_id)
            for user_id, user in self._world.users.items()
            if user_id in self._world.members
            and (user_id in wanted if wanted else user.username.lower().startswith(query))
        ]
        limit = int(data.get("limit") or 0)
        chunk: dict[str, Any] = {
            "guild_id": str(self._world.guild_id),
            "members": members[:limit] if limit else members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        session.publish("GUILD_MEMBERS_CHUNK", chunk)
