"""Wake arbitration over the MQTT broker: claim the wake word, hear the other devices' claims
for a short window, and answer only when this device heard it best (claims.verdict).

The window runs while the user is still saying the request, so the turn itself seldom waits.
Without a broker connection there is nothing to wait for: the device answers alone."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from edgeai.config import HomeSettings
from edgeai.home.broker import BrokerLink
from edgeai.home.claims import SAME_WAKE_S, ClaimProblem, WakeClaim, parse_claim, verdict

log = logging.getLogger(__name__)

DELIVERY_S = 0.05
"""After the window, claims timed within it still have this long to arrive (detection on a
busy device, then the broker's round trip on a LAN)."""
KEPT_CLAIMS = 64


class Outcome(Enum):
    WON = "won"
    """Other devices heard it too; this one heard it best and answers."""
    LOST = "lost"
    """Another device heard it better: this one stays silent."""
    ALONE = "alone"
    """No broker to ask: this device answers, as a single device does."""


@dataclass
class ArbitrationCounts:
    """For /health and /metrics."""

    won: int = 0
    lost: int = 0
    alone: int = 0
    ignored: int = 0
    """Claims dropped as malformed, too big or stale (or clock-skewed)."""
    last_ignored: str | None = None


class Pending:
    """One claim in flight; `outcome()` waits for the verdict (once) and keeps it."""

    def __init__(
        self, arbiter: Arbiter, claim: WakeClaim | None, decide_at: float, outcome: Outcome | None
    ) -> None:
        self.claim = claim
        self._arbiter = arbiter
        self._decide_at = decide_at
        self._outcome = outcome
        self._lock = threading.Lock()
        self.waited_s = 0.0
        """How long `outcome()` had to wait for the verdict."""

    def settled(self) -> Outcome | None:
        """The verdict if its time has come, without waiting; else None."""
        if self._outcome is None and self._arbiter.clock() < self._decide_at:
            return None
        return self.outcome()

    def outcome(self) -> Outcome:
        with self._lock:
            if self._outcome is None:
                started = time.monotonic()
                delay = self._decide_at - self._arbiter.clock()
                if delay > 0:
                    time.sleep(delay)
                self.waited_s = time.monotonic() - started
                assert self.claim is not None
                self._outcome = self._arbiter.decide(self.claim)
            return self._outcome


class Arbiter:
    def __init__(
        self,
        link: BrokerLink,
        settings: HomeSettings,
        device: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.link = link
        self.settings = settings
        self.device = device
        self.clock = clock
        """Seconds since the epoch: claims from other devices are dated by their clocks."""
        self.counts = ArbitrationCounts()
        self._claims: deque[WakeClaim] = deque(maxlen=KEPT_CLAIMS)
        self._mine: deque[str] = deque(maxlen=KEPT_CLAIMS)
        """Our own claims' turn ids: another device's claim under our id is a config error."""
        self._warned_twin = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self.link.listen(self.settings.claim_topic, self._on_message, self.settings.claim_qos)

    def stop(self) -> None:
        self.link.unlisten(self.settings.claim_topic)

    def claim(self, score: float, level_db: float, snr_db: float, heard_at: float) -> Pending:
        """Tell the others this device heard the wake word at `heard_at` (epoch seconds)."""
        mine = WakeClaim(
            device=self.device,
            room=self.settings.room,
            turn=uuid.uuid4().hex[:12],
            score=min(1.0, max(0.0, score)),
            level_db=min(10.0, max(-140.0, level_db)),
            snr_db=min(160.0, max(-60.0, snr_db)),
            at=heard_at,
        )
        qos = self.settings.claim_qos
        self._mine.append(mine.turn)
        if not self.link.send_now(self.settings.claim_topic, mine.model_dump_json(), qos):
            self._count(Outcome.ALONE)
            log.info("wake word: no broker to arbitrate with, answering alone")
            return Pending(self, None, heard_at, Outcome.ALONE)
        return Pending(self, mine, heard_at + self.settings.window_s + DELIVERY_S, None)

    def decide(self, mine: WakeClaim) -> Outcome:
        with self._lock:
            others = [c for c in self._claims if c.device != self.device]
        won = verdict(mine, others, self.settings.window_s)
        outcome = Outcome.WON if won else Outcome.LOST
        self._count(outcome)
        heard = ", ".join(
            f"{c.device} {c.level_db:.1f} dBFS"
            for c in others
            if abs(c.at - mine.at) <= SAME_WAKE_S
        )
        log.info(
            "wake word %s: %s (score %.2f, %.1f dBFS, SNR %.1f dB; other claims: %s)",
            mine.turn, outcome.value, mine.score, mine.level_db, mine.snr_db, heard or "none",
        )  # fmt: skip
        return outcome

    def _count(self, outcome: Outcome) -> None:
        with self._lock:
            setattr(self.counts, outcome.value, getattr(self.counts, outcome.value) + 1)

    def _on_message(self, payload: bytes, topic: str) -> None:
        now = self.clock()
        found = parse_claim(payload, now, self.settings.stale_s)
        if isinstance(found, ClaimProblem):
            with self._lock:
                self.counts.ignored += 1
                self.counts.last_ignored = found.value
            log.debug("wake claim on %s ignored (%s): %r", topic, found.value, payload[:80])
            return
        if found.device == self.device:
            if found.turn not in self._mine and not self._warned_twin:
                self._warned_twin = True
                log.warning("another device claims wake words as %r too: give each device its "
                            "own mqtt.node_id, or both will answer", self.device)  # fmt: skip
            return  # our own, back from the broker
        with self._lock:
            self._claims.append(found)
