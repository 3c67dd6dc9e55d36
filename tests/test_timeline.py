"""The turn timeline's printed form (`edgeai demo`, the journal)."""

from __future__ import annotations

import re

from edgeai.messages import EndpointReason
from edgeai.voice.timeline import TurnTimeline


def test_the_stages_line_up_whatever_the_endpoint_reason():
    timeline = TurnTimeline(
        speech_end_s=10.0, endpoint_s=10.3, endpoint_reason=EndpointReason.COULD_GROW,
        stt_done_s=10.45, first_audio_s=10.6, last_audio_s=12.0,
    )  # fmt: skip
    lines = timeline.describe().splitlines()
    assert lines[0].strip().startswith("end of speech ")
    assert lines[1].strip().startswith("VAD endpoint (complete-could-grow) +")
    # every figure ends in the same column
    assert len({line.index(" ms") for line in lines}) == 1
    assert re.search(r"\+\s+300 ms$", lines[1]) and re.search(r"\+\s+600 ms$", lines[3])
