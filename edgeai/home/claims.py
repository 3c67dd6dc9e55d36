"""Wake claims: what a device says on the broker when it hears the wake word, and the rule
every device applies to the same claims to agree, without a coordinator, which one answers.

The rule works on the claims' own timestamps (when the wake word was heard), so each device
reaches the same verdict from the same messages whatever its processing delay:
- an *episode* starts with the earliest claim; claims up to `window_s` after it take part;
- the best-heard participant answers: signal-to-noise, then speech level (both in 1 dB steps),
  then the wake score, then the lowest device id. The score comes last because among
  detections it says little about who heard best: the hey_jarvis head gave 0.92 at 0 dB and 0.99
  at -3 dB on the same phrase, and 0.72-0.99 at random across the devices of `bench home`;
- a device whose own claim came later than the window has lost: the episode was decided
  without it (the others have answered or stood down already).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_CLAIM_BYTES = 512
"""A claim is about 150 bytes; anything much bigger is not one of ours."""
SAME_WAKE_S = 1.0
"""Claims this close belong to the same spoken wake word (devices hear it within a few 80 ms
blocks of each other); older ones are another episode."""
LEVEL_STEP_DB = 1.0


class WakeClaim(BaseModel):
    """One device heard the wake word: how well, and when (seconds since the epoch)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    room: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,32}$")
    turn: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="This wake's id")
    score: float = Field(ge=0, le=1, allow_inf_nan=False)
    level_db: float = Field(ge=-140, le=10, allow_inf_nan=False, description="Speech, dBFS")
    snr_db: float = Field(ge=-60, le=160, allow_inf_nan=False)
    at: float = Field(gt=0, allow_inf_nan=False, description="When the word was heard")

    def rank(self) -> tuple[float, float, float]:
        """Higher is better heard; equal ranks fall to the device id."""
        return (
            round(self.snr_db / LEVEL_STEP_DB),
            round(self.level_db / LEVEL_STEP_DB),
            self.score,
        )


class ClaimProblem(Enum):
    MALFORMED = "malformed"
    TOO_BIG = "too big"
    STALE = "stale"


def parse_claim(payload: bytes, now: float, stale_s: float) -> WakeClaim | ClaimProblem:
    """The claim in `payload`, or why it is ignored."""
    if len(payload) > MAX_CLAIM_BYTES:
        return ClaimProblem.TOO_BIG
    try:
        claim = WakeClaim.model_validate_json(payload)
    except ValidationError:
        return ClaimProblem.MALFORMED
    if abs(now - claim.at) > stale_s:
        return ClaimProblem.STALE
    return claim


def best(claims: Iterable[WakeClaim]) -> WakeClaim:
    """The best-heard claim; ties go to the lowest device id."""
    ranked = sorted(claims, key=lambda c: c.device)
    return max(ranked, key=WakeClaim.rank)  # max keeps the first of equals


def episode_start(mine: WakeClaim, others: Iterable[WakeClaim]) -> float:
    """When the episode `mine` belongs to began: its earliest claim."""
    return min([mine.at] + [c.at for c in others if mine.at - SAME_WAKE_S <= c.at <= mine.at])


def verdict(mine: WakeClaim, others: Iterable[WakeClaim], window_s: float) -> bool:
    """True when `mine` answers: it is in its episode's window and the best heard there.
    Every device applies this to the same claims and gets the same single answerer."""
    others = [c for c in others if c.device != mine.device]
    start = episode_start(mine, others)
    if mine.at - start > window_s:
        return False
    participants = [c for c in others if start <= c.at <= start + window_s] + [mine]
    return best(participants) == mine
