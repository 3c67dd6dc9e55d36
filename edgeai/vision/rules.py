"""Camera-triggered actions from the config: "when a person enters the door zone, say so"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from edgeai.config import CameraRule
from edgeai.messages import EventKind
from edgeai.vision.events import CameraEvent

log = logging.getLogger(__name__)

Announce = Callable[[str], object]
"""Speaks a sentence; what it returns (queued or refused) is its own business."""


class RuleRunner:
    """An event-bus subscriber: each matching rule acts at most once per its cooldown."""

    def __init__(self, rules: Sequence[CameraRule], announce: Announce | None) -> None:
        self.rules = list(rules)
        self.announce = announce
        self.route: Callable[[str, EventKind], object] | None = None
        """Set when the devices of a home share a broker: says the sentence in the room the
        camera watches (edgeai.home.rooms), in place of `announce`."""
        self._last_fired: dict[int, float] = {}
        self.fired = 0

    def __call__(self, event: CameraEvent) -> None:
        for index, rule in enumerate(self.rules):
            if rule.on != event.kind or (rule.zone is not None and rule.zone != event.zone):
                continue
            last = self._last_fired.get(index)
            if last is not None and event.at - last < rule.cooldown_s:
                continue
            self._last_fired[index] = event.at
            self.fired += 1
            log.info("rule %d (%s %s) fired on %s", index, rule.on, rule.zone or "", event.id)
            if rule.say and self.route is not None:
                self.route(rule.say, event.kind)
            elif rule.say and self.announce is not None:
                self.announce(rule.say)
            elif rule.say:
                log.info("would say %r, but the voice loop is not running", rule.say)
