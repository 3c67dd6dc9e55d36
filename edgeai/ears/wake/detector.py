"""Streaming wake word detection: several words at once, each with a threshold and refractory."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from edgeai.ears.wake.frontend import BLOCK_SAMPLES, FrontendStream, WakeFrontend
from edgeai.ears.wake.heads import WakeHead, WakeWordSpec
from edgeai.ears.wake.second_look import SecondLook
from edgeai.messages import WakeDetected

BLOCK_S = BLOCK_SAMPLES / 16000
log = logging.getLogger(__name__)


class WakeWordDetector:
    """Feed 80 ms blocks; get a WakeDetected for each word that fires on that block."""

    def __init__(self, frontend: WakeFrontend, words: Iterable[WakeWordSpec]) -> None:
        self._start(frontend, [WakeHead(spec) for spec in words])

    def fresh(self, names: Iterable[str] | None = None) -> WakeWordDetector:
        """A detector for another audio stream (a Wyoming client's): its own stream state on
        the same front end and heads, neither loaded again; only the named words, or all."""
        wanted = None if names is None else set(names)
        heads = [head for head in self.heads if wanted is None or head.spec.name in wanted]
        detector = WakeWordDetector.__new__(WakeWordDetector)
        detector._start(self.frontend, heads)
        return detector

    def _start(self, frontend: WakeFrontend, heads: list[WakeHead]) -> None:
        if not heads:
            raise ValueError("at least one wake word is needed")
        self.frontend = frontend
        self.heads = heads
        self._stream: FrontendStream = frontend.stream()
        self._blocks = 0
        self._quiet_until_s = {head.spec.name: 0.0 for head in heads}
        self._second_looks = {
            head.spec.name: SecondLook(head.spec.second_look, frontend, head)
            for head in heads
            if head.spec.second_look is not None
        }

    @property
    def heard_s(self) -> float:
        """Audio heard so far, in whole blocks."""
        return self._blocks * BLOCK_S

    def push(self, block: np.ndarray) -> list[WakeDetected]:
        embeddings = self._stream.push(block)
        self._blocks += 1
        now_s = self.heard_s
        detections = []
        for head in self.heads:
            score = head.score(embeddings)
            name = head.spec.name
            quiet = now_s < self._quiet_until_s[name]
            heard, looked_again = score >= head.spec.threshold, False
            second_look = self._second_looks.get(name)
            if second_look is not None:  # it hears every block; at the threshold it waits no more
                looked = second_look.push(block, score, now_s, quiet)
                if looked is not None and looked >= second_look.spec.threshold:
                    log.info(
                        "%s heard on a second look: %.2f (the head: %.2f)", name, looked, score
                    )
                    heard, looked_again, score = True, True, looked
            if heard and not quiet:
                self._quiet_until_s[name] = now_s + head.spec.refractory_s
                detections.append(WakeDetected(name, score, now_s, looked_again))
        return detections
