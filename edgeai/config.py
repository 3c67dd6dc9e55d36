"""The edgeai config file: one YAML file, validated strictly, doing no I/O beyond reading it."""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from edgeai.messages import EventKind
from edgeai.paths import LOCAL_CONFIG, default_model_store, edgeai_home
from edgeai.yamlfile import load_yaml_model


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(Strict):
    store: Path | None = Field(
        default=None,
        description="Folder of the model store; default $EDGEAI_HOME/models",
    )

    def store_path(self) -> Path:
        return (self.store or default_model_store()).expanduser()


class AudioSettings(Strict):
    input_device: str | int | None = Field(
        default=None, description="Microphone: a name (substring) or index; null = system default"
    )
    output_device: str | int | None = Field(
        default=None, description="Speaker: a name (substring) or index; null = system default"
    )


class EchoSettings(Strict):
    """Acoustic echo cancellation of what edgeai plays, before the microphone's audio reaches
    the wake word, stop word, VAD and speech-to-text (residual echo suppression is always on)."""

    enabled: bool = Field(
        default=True, description="Cancel the echo of edgeai's own replies in the microphone"
    )
    max_delay_ms: int = Field(
        default=500, ge=20, le=2000, description="Longest playback-to-capture delay looked for"
    )
    noise_suppression: bool = Field(default=False, description="Also suppress steady noise")
    auto_gain: bool = Field(default=False, description="Also level the microphone's gain")
    high_pass: bool = Field(default=True, description="Also remove rumble below about 80 Hz")


Fraction = Annotated[float, Field(ge=0, le=1)]
Polygon = Annotated[
    list[tuple[Fraction, Fraction]],
    Field(min_length=3, description="Corners [x, y] as fractions (0..1) of width and height"),
]


class MotionConfig(Strict):
    pixel_threshold: int = Field(
        default=18, ge=1, le=255, description="Grey-level change that counts; above sensor noise"
    )
    min_area: float = Field(
        default=0.004, gt=0, lt=1, description="Fraction of the picture that must change"
    )
    masks: list[Polygon] = Field(default=[], description="Areas where change never counts")


class FallConfig(Strict):
    """When lying down is a fall: sustained, after being seen upright, once per episode."""

    lying_s: float = Field(
        default=1.5,
        ge=0,
        le=600,
        description="Lying this long, after being seen upright, is a fall (a label that flips "
        "for one detector run while someone bends or sits is not)",
    )
    rearm_upright_s: float = Field(
        default=2.0,
        ge=0,
        le=3600,
        description="A person must be upright this long before lying can be a fall, and again "
        "after each fall (the episode ends then)",
    )
    min_interval_s: float = Field(
        default=60.0, ge=0, le=86400, description="At most one fall per person this often"
    )
    lying_ratio: float = Field(
        default=0.55,
        gt=0,
        le=1,
        description="A whole person box this low for its width (height / width) is lying, "
        "whatever the detector calls it; someone sitting or bending over gives 0.64 or more",
    )
    lying_height: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="A box the detector calls fallen but not lower than lying_ratio is lying "
        "only at this share of the person's last upright height or less (their top dropped "
        "by half); bending over or sitting keeps more",
    )
    still_down_every_s: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="Someone still lying after the fall is reported again (still_down) this "
        "often; 0: never",
    )


class CameraRule(Strict):
    on: EventKind
    zone: str | None = Field(default=None, description="Only in this zone; null: anywhere")
    say: str | None = Field(default=None, min_length=1, description="Spoken by the voice loop")
    cooldown_s: float = Field(default=30.0, ge=0, le=86400, description="Not again for this long")


class EventStorage(Strict):
    folder: Path | None = Field(default=None, description="Default $EDGEAI_HOME/events")
    keep: int = Field(default=1000, ge=1, le=1_000_000, description="Newest events kept")
    keep_days: float = Field(default=7.0, gt=0, le=3650, description="Older events are deleted")

    def folder_path(self) -> Path:
        return (self.folder or edgeai_home() / "events").expanduser()


class CameraSettings(Strict):
    enabled: bool = Field(default=True, description="false: the service runs without a camera")
    device: str = Field(
        default="/dev/video0",
        min_length=1,
        description="V4L2 device path, stream URL, video file or image folder",
    )
    width: int | None = Field(default=None, ge=64, le=7680, description="null: the profile's")
    height: int | None = Field(default=None, ge=64, le=4320, description="null: the profile's")
    fps: int | None = Field(default=None, ge=1, le=120, description="null: the profile's")
    detect_fps: float = Field(
        default=5.0, gt=0, le=60, description="Most detector runs per second while things move"
    )
    tracked_detect_fps: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Most detector runs per second while the only motion is on people already "
        "tracked (new motion elsewhere runs it at detect_fps)",
    )
    still_detect_fps: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Most detector runs per second while all that moves stays inside people's "
        "boxes (someone standing) or where the last run found nobody; moving out of the box "
        "(walking on, lying down) brings the faster paces back",
    )
    recheck_s: float = Field(
        default=10.0, gt=0, le=3600, description="Look again this often at people standing still"
    )
    detect_regions: bool = Field(
        default=True,
        description="Run the detector on a crop around what moved (and the people followed) "
        "where that costs less than the whole frame; false: always the whole frame",
    )
    min_score: float = Field(
        default=0.45, gt=0, lt=1, description="Detector confidence a person needs to be followed"
    )
    partial_min_score: float = Field(
        default=0.25,
        gt=0,
        lt=1,
        description="Detector confidence for a person cut by the picture's edge: partly in "
        "view the model is less sure, and someone walking in should be seen early (chosen on "
        "the tuning cut-out walking in from each side: two looks a median 100 ms after a "
        "quarter was in view, against 167 ms at min_score)",
    )
    person_sure_score: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="One upright sighting this sure is a person; less sure ones need two",
    )
    stall_s: float = Field(
        default=5.0, ge=1, le=300, description="A live camera silent this long is reopened"
    )
    falls: FallConfig = FallConfig()
    motion: MotionConfig = MotionConfig()
    zones: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], Polygon] = Field(
        default={}, description="Named areas; a person is in one when their feet are"
    )
    rules: list[CameraRule] = Field(default=[], description="What to do when an event happens")
    events: EventStorage = EventStorage()

    @property
    def detector_min_score(self) -> float:
        """The detector's own cut: the lower of the two; the camera loop applies each to its
        boxes (PeopleWatcher.credible)."""
        return min(self.min_score, self.partial_min_score)

    @field_validator("rules")
    @classmethod
    def _rules_name_known_zones(
        cls, rules: list[CameraRule], info: ValidationInfo
    ) -> list[CameraRule]:
        zones = info.data.get("zones", {})
        for rule in rules:
            if rule.zone is not None and rule.zone not in zones:
                known = ", ".join(sorted(zones)) or "none defined"
                raise ValueError(f"rule zone {rule.zone!r} is not a zone (zones: {known})")
        return rules


class WakeWordSettings(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$", description="e.g. hey_jarvis")
    model: Path | None = Field(
        default=None,
        description="Head ONNX file; default <name>.onnx in $EDGEAI_HOME/wakewords, then bundled",
    )
    threshold: float | None = Field(
        default=None, gt=0, lt=1, description="Default: the threshold in the head's manifest"
    )
    refractory_s: float = Field(
        default=2.0, ge=0, le=30, description="No second detection of this word for this long"
    )
    second_look: bool = Field(
        default=True,
        description="Where the head's manifest sets one and no threshold is set here: a near "
        "miss is scored again, said more slowly (fast talkers the head never heard)",
    )


class WakeSettings(Strict):
    words: list[WakeWordSettings] = Field(
        default=[WakeWordSettings(name="hey_jarvis")], min_length=1
    )
    stop_words: list[WakeWordSettings] = Field(
        default=[WakeWordSettings(name="stop", refractory_s=1.0)],
        description="Heard while edgeai speaks, they cut the reply short without the wake word",
    )

    @model_validator(mode="after")
    def _names_differ(self) -> WakeSettings:
        names = [word.name for word in self.words + self.stop_words]
        if len(names) != len(set(names)):
            raise ValueError(f"wake words and stop words need different names, got {names}")
        return self


class VadSettings(Strict):
    start_threshold: float = Field(
        default=0.5, gt=0, lt=1, description="Speech probability that counts a frame as speech"
    )
    end_threshold: float = Field(
        default=0.35,
        gt=0,
        lt=1,
        description="Below this a frame is silence; the gap stops flapping",
    )
    min_speech_ms: int = Field(
        default=96, ge=32, le=2000, description="Speech must last this long to start an utterance"
    )
    trailing_silence_ms: int = Field(
        default=500,
        ge=100,
        le=5000,
        description="Silence that ends an utterance: shorter answers sooner, cuts slow speakers",
    )
    min_utterance_ms: int = Field(
        default=250, ge=0, le=5000, description="Shorter utterances are dropped as noise"
    )
    max_utterance_s: float = Field(
        default=15.0, ge=1, le=120, description="Cut here so a stuck-open mic cannot hang a turn"
    )
    pre_roll_ms: int = Field(
        default=300, ge=0, le=2000, description="Audio kept before the start: the first syllable"
    )
    no_speech_timeout_s: float = Field(
        default=5.0, ge=0.5, le=60, description="After the wake word, give up if nothing is said"
    )
    adaptive: bool = Field(
        default=True,
        description="End the turn by what was said: a complete local command at once, an "
        "unfinished request later (false: always the trailing silence)",
    )
    speculative_pause_ms: int = Field(
        default=32,
        ge=32,
        le=1000,
        description="A pause this long starts speculative speech-to-text of the speech so far",
    )
    complete_silence_ms: int = Field(
        default=160,
        ge=32,
        le=5000,
        description="Silence that ends a complete local command (adaptive; the transcript of "
        "the pause must be in hand too)",
    )
    could_grow_silence_ms: int = Field(
        default=700,
        ge=100,
        le=5000,
        description="Silence that ends a complete command that could still go on: a duration "
        "or number at its end (five minutes ... and thirty seconds)",
    )
    unfinished_silence_ms: int = Field(
        default=1200,
        ge=100,
        le=10000,
        description="Silence that ends a clearly unfinished request (set a timer for ...)",
    )
    min_ending_probability: float = Field(
        default=0.005,
        ge=0,
        lt=1,
        description="Adaptive: a pause whose transcript goes to the LLM, where the local LLM "
        "gives the request less than this chance of ending (a sentence end or the message's "
        'end as its next token: "how do I make"), waits unfinished_silence_ms (0: never; the '
        "LLM is asked while this or doubtful_ending_probability is above 0)",
    )
    doubtful_ending_probability: float = Field(
        default=0.4,
        ge=0,
        lt=1,
        description="Adaptive: a pause whose transcript goes to the LLM, where the local LLM "
        "gives the request less than this chance of ending (but at least "
        "min_ending_probability), waits doubtful_silence_ms (0: never)",
    )
    doubtful_log_probability: float | None = Field(
        default=-0.35,
        le=0,
        description="Adaptive: a pause whose transcript Whisper scored under this "
        "log-probability per token (it is unsure of what it heard, as of a word cut by the "
        'pause: "Can\'t solve it." for "Cancel the ...") is doubted under '
        "unsure_ending_probability instead of doubtful_ending_probability, and without the "
        "LLM's chance at all; only where the backend scores what it heard: faster-whisper with "
        "a prompt or a short window (null: never)",
    )
    unsure_ending_probability: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Adaptive: a pause whose transcript Whisper is unsure of "
        "(doubtful_log_probability), where the local LLM gives the request less than this "
        "chance of ending, waits doubtful_silence_ms (never less than "
        "doubtful_ending_probability)",
    )
    doubtful_silence_ms: int = Field(
        default=650,
        ge=100,
        le=5000,
        description="Silence that ends a question the local LLM doubts is over (or whose "
        "transcript Whisper is unsure of): longer than "
        "the natural pauses inside a request (300-600 ms); never less than trailing_silence_ms "
        "nor more than unfinished_silence_ms",
    )
    early_answer: bool = Field(
        default=True,
        description="Adaptive: start the LLM's answer to a pause's transcript during the "
        "trailing silence, held unheard; spoken if the turn ends on that pause, dropped if "
        "speech goes on",
    )

    @model_validator(mode="after")
    def _pause_before_the_end(self) -> VadSettings:
        shortest = min(self.trailing_silence_ms, self.complete_silence_ms)
        if self.speculative_pause_ms > shortest:
            raise ValueError(
                f"vad.speculative_pause_ms ({self.speculative_pause_ms}) must not exceed "
                f"trailing_silence_ms or complete_silence_ms ({shortest}): the transcript of the "
                "pause decides the end"
            )
        return self

    @model_validator(mode="after")
    def _doubt_above_unfinished(self) -> VadSettings:
        if 0 < self.doubtful_ending_probability < self.min_ending_probability:
            raise ValueError(
                f"vad.doubtful_ending_probability ({self.doubtful_ending_probability}) must not "
                f"be under min_ending_probability ({self.min_ending_probability}): a request "
                "less likely to end waits longer, not less"
            )
        return self


class VoiceSettings(Strict):
    follow_up_s: float = Field(
        default=5.0, ge=0, le=30, description="After a reply, listen this long without a wake word"
    )
    max_sentences: int = Field(default=3, ge=1, le=10, description="Spoken answers are capped")
    llm_max_tokens: int = Field(default=80, ge=8, le=1024, description="Cap on one LLM answer")
    stt_window_s: float | None = Field(
        default=None,
        ge=10,
        le=30,
        description="Whisper encoder window for faster-whisper (null: the profile's, x86-cpu "
        "10 s, else Whisper's 30 s); shorter is faster for short commands, under 10 s tiny.en "
        "repeats itself",
    )
    history_turns: int = Field(
        default=3, ge=0, le=20, description="Earlier exchanges the LLM remembers"
    )
    llm_seed: int | None = Field(
        default=None,
        ge=0,
        lt=2**31,
        description="Fixed sampling seed: the same question gets the same answer (benchmarks)",
    )
    timers_file: Path | None = Field(
        default=None, description="Where timers survive restarts; default $EDGEAI_HOME/timers.json"
    )
    stt_prompt: bool = Field(
        default=True,
        description="Prompt speech-to-text with the intents' example requests and the camera "
        "zones, so it leans toward their words (faster-whisper only)",
    )
    stt_hypotheses: int = Field(
        default=10,
        ge=1,
        le=10,
        description="Whisper's beam width and n-best list for a command: a hypothesis that is a "
        "complete local command is taken over a best one that is not, when it scores nearly as "
        "well (faster-whisper only; 1: greedy, Whisper's best only)",
    )
    intents_file: Path | None = Field(
        default=None,
        description="Sentence templates for the local intents (hassil syntax); null: the "
        "bundled intents/en.yaml",
    )


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: nothing off this machine can connect there."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


HostName = Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]{1,253}$")]


class ApiSettings(Strict):
    enabled: bool = True
    host: str = Field(default="127.0.0.1", min_length=1, description="Address to listen on")
    port: int = Field(default=8765, ge=0, le=65535, description="0 picks a free port")
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token every request must carry; required off loopback",
    )
    require_token: bool = Field(
        default=False,
        description="Refuse to start without api.token on loopback too (other local users)",
    )
    allowed_hosts: list[HostName] = Field(
        default=[],
        description="Host names the API answers to besides loopback names, this machine's "
        "name and IP addresses (others get 403: DNS rebinding)",
    )
    max_body_bytes: int = Field(
        default=65536, ge=1024, le=16 << 20, description="Largest request body (else 413)"
    )
    max_connections: int = Field(
        default=128,
        ge=8,
        le=10_000,
        description="Open connections (/events streams included) before new requests get 503",
    )
    request_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="A request's headers and body must arrive within this, else it is dropped",
    )

    @model_validator(mode="after")
    def _token_off_loopback(self) -> ApiSettings:
        if not is_loopback(self.host) and self.token is None:
            raise ValueError(
                f"host {self.host!r} is reachable from other machines: set api.token "
                "(any long random string) or bind 127.0.0.1"
            )
        if self.require_token and self.token is None:
            raise ValueError(
                "api.require_token is true but api.token is not set: set api.token "
                "(any long random string)"
            )
        return self


class MqttSettings(Strict):
    enabled: bool = False
    host: str = Field(default="localhost", min_length=1, description="Broker address")
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    node_id: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_]+$",
        description="This device in topic names; null: the host name",
    )
    topic_prefix: str = Field(default="edgeai", pattern=r"^[^#+]+$")
    discovery_prefix: str = Field(
        default="homeassistant", pattern=r"^[^#+]+$", description="Home Assistant discovery"
    )
    buffer: int = Field(
        default=1000, ge=1, le=100_000, description="Events kept while the broker is away"
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600)

    def node(self) -> str:
        if self.node_id:
            return self.node_id
        return re.sub(r"[^a-z0-9_]+", "_", socket.gethostname().lower()).strip("_") or "edgeai"


RoomName = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$", description="e.g. hall, kitchen")]


class HomeSettings(Strict):
    """Several devices on one MQTT broker (needs mqtt.enabled): the best-heard device answers a
    wake word, and camera announcements and questions go to the right room."""

    room: RoomName | None = Field(default=None, description="This device's room; null: none")
    camera_room: RoomName | None = Field(
        default=None, description="The room the camera watches; null: the device's room"
    )
    arbitration: bool = Field(
        default=True, description="Devices that hear the same wake word agree which one answers"
    )
    claim_topic: str = Field(
        default="edgeai/home/wake",
        pattern=r"^[^#+]+$",
        description="Where wake claims go; the same on every device of the home",
    )
    claim_qos: Literal[0, 1] = Field(default=0, description="MQTT QoS of a wake claim")
    window_s: float = Field(
        default=0.1,
        ge=0.02,
        le=1.0,
        description="Claims heard this long after the first one of a wake word take part (the "
        "verdict comes 50 ms later, while the request is still being spoken)",
    )
    stale_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="A claim dated this much before or after our clock is ignored (stale or "
        "clock-skewed)",
    )
    falls_everywhere: bool = Field(
        default=False, description="Fall announcements play on every device, not just the room's"
    )
    ask_timeout_s: float = Field(
        default=3.0,
        gt=0,
        le=30,
        description='"What do you see in the hall?": the hall device has this long to answer',
    )

    def watched_room(self) -> str | None:
        return self.camera_room or self.room


Address = Annotated[
    IPvAnyNetwork,
    Field(description="A client address or network, e.g. 192.168.1.20 or 192.168.1.0/24"),
]


class WyomingSettings(Strict):
    """The Wyoming server Home Assistant (or another edgeai) connects to."""

    enabled: bool = False
    host: str = Field(default="127.0.0.1", min_length=1, description="Address to listen on")
    port: int = Field(default=10700, ge=0, le=65535, description="0 picks a free port")
    allow: list[Address] = Field(
        default=[],
        description="Clients allowed besides this machine; required when host is off loopback",
    )
    zeroconf: bool = Field(default=True, description="Announce the server for Home Assistant")
    name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9 _-]{1,63}$",
        description="Name announced over zeroconf; null: edgeai-<host name>",
    )
    max_event_bytes: int = Field(
        default=65536,
        ge=1024,
        le=16 << 20,
        description="Largest header line and data block a client may send",
    )
    max_payload_bytes: int = Field(
        default=1 << 20, ge=1024, le=64 << 20, description="Largest audio payload of one event"
    )
    max_audio_s: float = Field(
        default=60.0, gt=0, le=600, description="Longest audio one request may stream"
    )
    max_text_chars: int = Field(
        default=4000, ge=1, le=100_000, description="Longest text one request may send"
    )
    max_connections: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Clients connected at once; more are refused (each may hold up to "
        "max_payload_bytes + max_event_bytes + max_audio_s of 16 kHz audio)",
    )
    idle_timeout_s: float = Field(
        default=60.0, gt=0, le=3600, description="A client that sends no event for this is dropped"
    )
    read_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="An event's data and payload must arrive within this after its header",
    )

    @model_validator(mode="after")
    def _allowlist_off_loopback(self) -> WyomingSettings:
        if not is_loopback(self.host) and not self.allow:
            raise ValueError(
                f"host {self.host!r} is reachable from other machines: list the clients "
                "allowed to connect in wyoming.allow (e.g. 192.168.1.20 or 192.168.1.0/24) "
                "or bind 127.0.0.1"
            )
        return self


class RemoteStage(Strict):
    """A stage run by another machine on the LAN, with the local model as fallback."""

    url: str = Field(
        pattern=r"^(tcp|https?)://[^\s/]+(/\S*)?$",
        description="tcp://host:port for a Wyoming service, http(s)://host:port/v1 for an "
        "OpenAI-compatible endpoint",
    )
    timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="Longest wait for a connection or a reply piece"
    )
    retry_after_s: float = Field(
        default=30.0, ge=0, le=3600, description="After a failure, use the local model this long"
    )
    model: str | None = Field(
        default=None, min_length=1, description="Model to ask for; null: the server's default"
    )
    voice: str | None = Field(
        default=None, min_length=1, description="Text-to-speech: voice to ask for"
    )
    api_key: SecretStr | None = Field(default=None, description="Bearer token (OpenAI-compatible)")

    @property
    def protocol(self) -> Literal["wyoming", "openai"]:
        return "wyoming" if self.url.startswith("tcp://") else "openai"

    @field_validator("url")
    @classmethod
    def _tcp_has_port(cls, url: str) -> str:
        if url.startswith("tcp://") and not re.fullmatch(r"tcp://[^\s/:]+:\d{1,5}/?", url):
            raise ValueError(f"a Wyoming address is tcp://host:port (got {url})")
        return url


class RemoteSettings(Strict):
    stt: RemoteStage | None = Field(
        default=None, description="Speech-to-text elsewhere: Wyoming or OpenAI-compatible"
    )
    tts: RemoteStage | None = Field(
        default=None, description="Text-to-speech elsewhere: Wyoming or OpenAI-compatible"
    )
    llm: RemoteStage | None = Field(default=None, description="The LLM elsewhere")

    def stages(self) -> list[tuple[str, RemoteStage]]:
        """The configured ones, by role."""
        named = (("stt", self.stt), ("tts", self.tts), ("llm", self.llm))
        return [(role, stage) for role, stage in named if stage is not None]


class HomeAssistantSettings(Strict):
    """Home Assistant's conversation API: requests no local intent handles go there first, so
    "turn on the kitchen lights" switches the user's real entities by their own names."""

    url: str = Field(
        pattern=r"^https?://[^\s/]+/?$",
        description="Home Assistant's address, e.g. http://homeassistant.local:8123",
    )
    token: SecretStr = Field(
        description="A long-lived access token (your profile in Home Assistant > Security)"
    )
    timeout_s: float = Field(
        default=3.0, gt=0, le=60, description="Longest wait for Home Assistant's answer"
    )
    retry_after_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="After a failure, Home Assistant is left alone this long",
    )
    language: str = Field(default="en", pattern=r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]+)*$")
    agent_id: str | None = Field(
        default=None,
        min_length=1,
        description="The conversation agent to ask; null: Home Assistant's default (Assist)",
    )


class ServiceSettings(Strict):
    watchdog_stall_s: float = Field(
        default=15.0,
        ge=2,
        le=600,
        description="A loop without progress this long stops feeding the systemd watchdog",
    )
    stop_timeout_s: float = Field(
        default=4.0, gt=0, le=60, description="SIGTERM: loops get this long to finish"
    )


class Config(Strict):
    profile: str = Field(
        default="auto",
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="A device profile name, or auto to detect it",
    )
    models: ModelSettings = ModelSettings()
    audio: AudioSettings = AudioSettings()
    echo: EchoSettings = EchoSettings()
    camera: CameraSettings = CameraSettings()
    wake: WakeSettings = WakeSettings()
    vad: VadSettings = VadSettings()
    voice: VoiceSettings = VoiceSettings()
    api: ApiSettings = ApiSettings()
    mqtt: MqttSettings = MqttSettings()
    home: HomeSettings = HomeSettings()
    wyoming: WyomingSettings = WyomingSettings()
    remote: RemoteSettings = RemoteSettings()
    home_assistant: HomeAssistantSettings | None = Field(
        default=None, description="Device control through Home Assistant; null: none"
    )
    service: ServiceSettings = ServiceSettings()
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def secrets_set(self) -> list[str]:
        """The secret settings that have a value, by name (a config holding any must not be
        readable by other users)."""
        named = [("api.token", self.api.token), ("mqtt.password", self.mqtt.password)]
        named += [(f"remote.{role}.api_key", stage.api_key) for role, stage in self.remote.stages()]
        if self.home_assistant is not None:
            named.append(("home_assistant.token", self.home_assistant.token))
        return [name for name, value in named if value is not None]


def load_config(path: Path | None) -> tuple[Config, Path | None]:
    """The config at `path`; without one, ./edgeai.yaml if present, else the defaults.

    Returns the config and the file it came from (None for the built-in defaults).
    """
    if path is None:
        if not LOCAL_CONFIG.is_file():
            return Config(), None
        path = LOCAL_CONFIG
    return load_yaml_model(path, Config), path
