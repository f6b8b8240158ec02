"""The members' traffic: each member runs /imagine with a unique tag, then clicks U, V and 🔄 (and
Retry) on the results in the channel, while a ledger makes sure no two jobs can share a headline."""

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.soak.view import Snapshot, follow_up_label, headline_key, imagine_key, waiting_key
from emulator import BackgroundEmulator, Interaction

ANSWER_WAIT = 10.0
"""How long a member waits for an answer before going on (answers after 3 s are late anyway)."""
EPHEMERAL = 1 << 6
WORDS = [
    "red",
    "fox",
    "lighthouse",
    "harbour",
    "owl",
    "kite",
    "river",
    "market",
    "boat",
    "forest",
    "tower",
    "garden",
    "moon",
    "desert",
]


@dataclass
class Sent:
    """One interaction the harness started, and what became of it."""

    action: str
    member: int
    interaction: Interaction
    sent_at: float
    fault: str | None = None
    """The fault kind this interaction is (a hostile prompt or a forged click), if any."""
    bot_up: bool = True
    """Whether the bot process was running when it was sent (it may have died on its own)."""
    key: str | None = None
    """The headline of the job it started, once answered with a public waiting message."""


class Gate:
    """Pauses the members' traffic (while the harness has the bot killed): closing waits until every
    interaction in flight is answered or given up on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closed = False
        self._busy = 0

    @contextmanager
    def turn(self, stop: threading.Event) -> Iterator[None]:
        with self._cond:
            while self._closed and not stop.is_set():
                self._cond.wait(0.5)
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    @contextmanager
    def closed(self, timeout: float = 30.0) -> Iterator[None]:
        with self._cond:
            self._closed = True
            self._cond.wait_for(lambda: self._busy == 0, timeout)
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()


class Ledger:
    """Everything sent, and the job keys already asked for."""

    def __init__(self, discord: BackgroundEmulator, channel: int) -> None:
        self.discord = discord
        self.channel = channel
        self.sent: list[Sent] = []
        self.snapshot = Snapshot()
        self._reserved: set[str] = set()
        self._tags = 0
        self._lock = threading.Lock()

    def new_tag(self) -> str:
        with self._lock:
            self._tags += 1
            return f"tag{self._tags:04d}"

    def reserve(self, key: str) -> bool:
        """False when a job with this key may already exist: the caller picks another action."""
        with self._lock:
            if key in self._reserved:
                return False
            self._reserved.add(key)
            return True

    def slash(self, member: int, prompt: str, action: str, *, fault: str | None = None, bot_up: bool) -> Sent:
        """/imagine; its headline is reserved (a 🔄 of the same member would have it, too)."""
        self.reserve(imagine_key(prompt, member))
        interaction = self.discord.slash(
            "imagine", {"prompt": prompt}, user_id=member, channel_id=self.channel
        )
        return self._add(Sent(action, member, interaction, interaction.created_at, fault, bot_up))

    def click(
        self,
        member: int,
        message_id: int,
        custom_id: str,
        action: str,
        *,
        fault: str | None = None,
        bot_up: bool,
        **kwargs: Any,
    ) -> Sent:
        interaction = self.discord.click(message_id, custom_id, user_id=member, **kwargs)
        return self._add(Sent(action, member, interaction, interaction.created_at, fault, bot_up))

    def _add(self, sent: Sent) -> Sent:
        with self._lock:
            self.sent.append(sent)
        return sent

    def wait_answer(self, sent: Sent, timeout: float = ANSWER_WAIT) -> None:
        """Waits for the bot's answer; records the job's key when it is a public waiting message."""
        deadline = time.monotonic() + timeout
        while sent.interaction.acknowledged_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        sent.key = self.discord.call(lambda _: accepted_key(sent.interaction))

    def accepted(self) -> list[Sent]:
        with self._lock:
            return [sent for sent in self.sent if sent.key is not None]

    def open_jobs(self) -> int:
        snapshot = self.snapshot
        return sum(not snapshot.finished(sent.key) for sent in self.accepted() if sent.key)

    def refresh(self, bot_id: int) -> Snapshot:
        self.snapshot = Snapshot.of(self.discord.summaries(self.channel), bot_id)
        return self.snapshot


def accepted_key(interaction: Interaction) -> str | None:
    """The job an interaction started: answered with a public (not ephemeral) waiting message."""
    data = interaction.response_data or {}
    if interaction.response_type != 4 or (data.get("flags") or 0) & EPHEMERAL:
        return None
    return waiting_key(data.get("content") or "")


@dataclass
class Traffic:
    """What the members share: the ledger, the gate, when to stop."""

    ledger: Ledger
    gate: Gate
    stop: threading.Event
    jobs: int
    max_open: int
    bot_up: Any
    """() -> bool: whether the bot process runs now."""

    def enough(self) -> bool:
        return len(self.ledger.accepted()) >= self.jobs


def member_loop(member: int, rng: random.Random, traffic: Traffic) -> None:
    ledger = traffic.ledger
    while not traffic.stop.is_set() and not traffic.enough():
        if ledger.open_jobs() >= traffic.max_open:
            time.sleep(0.2)
            continue
        with traffic.gate.turn(traffic.stop):
            if traffic.stop.is_set() or traffic.enough():
                break
            sent = _act(member, rng, traffic)
            if sent is not None:
                ledger.wait_answer(sent)
        time.sleep(rng.uniform(0.1, 0.8))


def _act(member: int, rng: random.Random, traffic: Traffic) -> Sent | None:
    ledger = traffic.ledger
    choices = ledger.snapshot.clickable()
    if choices and rng.random() < 0.6:
        for _ in range(5):
            shown = rng.choice(choices)
            buttons = [b for b in shown.buttons if b.get("custom_id") and not b.get("disabled")]
            if not buttons:
                continue
            button = rng.choice(buttons)
            label = follow_up_label(shown, button)
            if label is None or not ledger.reserve(headline_key(shown.title, label, member)):
                continue
            try:
                return ledger.click(
                    member,
                    shown.id,
                    button["custom_id"],
                    button.get("label") or button.get("emoji") or "?",
                    bot_up=traffic.bot_up(),
                )
            except (LookupError, ValueError):  # the message changed since the snapshot
                continue
    tag = ledger.new_tag()
    words = " ".join(rng.sample(WORDS, 3))
    extra = rng.choice(["", "", " --ar 3:2", " --seed 7", " --no text"])
    return ledger.slash(member, f"{tag} {words}{extra}", "imagine", bot_up=traffic.bot_up())
