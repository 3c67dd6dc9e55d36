"""Config validation: every problem is one line naming file, line, field and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeai.config import Config, load_config
from edgeai.errors import ConfigError
from tests.conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edgeai.yaml"
    path.write_text(text)
    return path


def test_the_annotated_example_is_valid_and_equals_the_defaults():
    config, source = load_config(REPO / "edgeai.example.yaml")
    assert source == REPO / "edgeai.example.yaml"
    assert config == Config()


def test_without_a_file_the_defaults_apply_and_a_local_file_is_picked_up(tmp_path: Path):
    assert load_config(None) == (Config(), None)  # the tests run in an empty tmp_path
    write(tmp_path, "profile: raspberry-pi-5\n")
    config, source = load_config(None)
    assert config.profile == "raspberry-pi-5"
    assert source == Path("edgeai.yaml")


def test_misspelt_setting_is_named_with_its_line(tmp_path: Path):
    path = write(tmp_path, "profile: auto\naudio:\n  input_devise: 2\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f"{path}:3: audio.input_devise: unknown setting (check the spelling; "
        "see the example config)"
    )


def test_errors_never_repeat_a_secret_or_an_unknown_keys_value(tmp_path: Path):
    """A misspelt or malformed secret would land in the journal, STATUS and /events."""
    path = write(
        tmp_path,
        "api:\n  tokn: hunter2-misspelt\n  token: [hunter2-list]\n"
        "mqtt:\n  password: {x: hunter2-map}\n"
        "remote:\n  llm: {url: 'http://a:1/v1', api_key: 7, extra: hunter2-extra}\n"
        "wyoming:\n  host: 0.0.0.0\n",
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "hunter2" not in message
    fields = ("api.tokn", "api.token", "mqtt.password", "remote.llm.api_key", "remote.llm.extra")
    for field in (*fields, "wyoming"):
        assert field in message, field
    assert len(message.splitlines()) == 6


def test_wrong_value_says_what_was_expected(tmp_path: Path):
    path = write(tmp_path, "log_level: loud\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}:1: log_level: ")
    assert "'debug', 'info', 'warning' or 'error'" in message
    assert "(got 'loud')" in message


def test_each_problem_gets_its_own_line(tmp_path: Path):
    path = write(tmp_path, "camera:\n  device: ''\nprofile: Not A Name\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:3: profile: String should match pattern")
    assert lines[1].startswith(f"{path}:2: camera.device: String should have at least 1 character")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("audio: [1, 2\n", "line 2, column 1: invalid YAML"),
        ("- just\n- a list\n", "expected a mapping of settings at the top, got list"),
        ("models:\n\tstore: x\n", "line 2, column 1: invalid YAML"),
    ],
)
def test_malformed_yaml_is_one_clear_line(tmp_path: Path, text: str, expected: str):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_config(tmp_path / "nope.yaml")


def test_store_path_follows_edgeai_home(edgeai_home: Path, tmp_path: Path):
    assert Config().models.store_path() == edgeai_home / "models"
    path = write(tmp_path, "models:\n  store: /srv/models\n")
    assert load_config(path)[0].models.store_path() == Path("/srv/models")


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("wyoming:\n  host: 0.0.0.0\n", 2, "wyoming: Value error, host '0.0.0.0' is reachable"),
        ("wyoming:\n  allow: [192.168.1.300]\n", 2, "wyoming.allow.0: value is not a valid IPv4"),
        ("remote:\n  stt: {url: 'tcp://big'}\n", 2, "a Wyoming address is tcp://host:port"),
        (
            "remote:\n  tts: {url: 'http://big/v1', timeout_s: 0}\n",
            2,
            "remote.tts.timeout_s: Input should be greater than 0",
        ),
        ("remote:\n  llm: {url: 'ftp://big'}\n", 2, "remote.llm.url: String should match"),
    ],
)
def test_wyoming_and_remote_settings_are_checked(
    tmp_path: Path, text: str, line: int, expected: str
):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert expected in str(error.value)


def test_a_stop_word_cannot_share_a_wake_word_name(tmp_path: Path):
    path = write(tmp_path, "wake:\n  stop_words:\n    - name: hey_jarvis\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "wake: Value error, wake words and stop words need different names" in str(error.value)


def test_a_whisper_window_under_ten_seconds_is_refused(tmp_path: Path):
    path = write(tmp_path, "voice:\n  stt_window_s: 5\n")
    with pytest.raises(ConfigError, match=r"voice\.stt_window_s: Input should be greater than or"):
        load_config(path)


def test_a_doubt_under_the_unfinished_chance_is_refused(tmp_path: Path):
    """A request less likely to end must wait longer: the doubtful band sits above the
    unfinished one, or is off (0)."""
    path = write(
        tmp_path, "vad:\n  min_ending_probability: 0.1\n  doubtful_ending_probability: 0.05\n"
    )
    with pytest.raises(
        ConfigError, match=r"doubtful_ending_probability \(0\.05\) must not be under"
    ):
        load_config(path)
    write(tmp_path, "vad:\n  min_ending_probability: 0.1\n  doubtful_ending_probability: 0\n")
    assert load_config(path)[0].vad.doubtful_ending_probability == 0
