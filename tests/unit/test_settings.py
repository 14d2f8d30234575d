"""One settings schema with three faces: Python, TOML, CLI overrides."""

from __future__ import annotations

import re
import tomllib

import pytest

from flatback.errors import SettingsError
from flatback.settings import Settings, dump_toml_template, parse_override


def test_defaults_file_and_overrides_merge_in_order(tmp_path):
    cfg = tmp_path / "fb.toml"
    cfg.write_text('[reps]\nmin_amplitude_deg = 25.0\nrest = "top"\n')
    s = Settings.load(cfg, {"reps.rest": "floor", "signals.lowpass_hz": 5})
    assert s.reps.min_amplitude_deg == 25.0
    assert s.reps.rest == "floor"
    assert s.signals.lowpass_hz == 5.0
    assert Settings().reps.min_amplitude_deg == 20.0  # defaults untouched


def test_template_documents_every_setting_and_round_trips(tmp_path):
    text = dump_toml_template()
    data = tomllib.loads(text)
    for section, _model in Settings.model_fields.items():
        fields = type(getattr(Settings(), section)).model_fields
        assert set(data[section]) == set(fields)
        for info in fields.values():
            assert info.description and info.description in text
    cfg = tmp_path / "t.toml"
    cfg.write_text(text)
    assert Settings.load(cfg) == Settings()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"reps.nope": 1}, "reps.nope"),
        ({"nosection.x": 1}, "Unknown setting"),
        ({"reps.rest": "sideways"}, "reps.rest"),
        ({"signals.lowpass_hz": "fast"}, "signals.lowpass_hz"),
    ],
)
def test_bad_settings_are_named(overrides, message):
    with pytest.raises(SettingsError, match=message):
        Settings.load(None, overrides)


def test_bad_toml_file_is_reported(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[reps\n")
    with pytest.raises(SettingsError, match="Cannot read settings file"):
        Settings.load(bad)
    with pytest.raises(SettingsError, match="not found"):
        Settings.load(tmp_path / "missing.toml")


def test_cli_override_values_are_typed():
    assert parse_override("reps.min_amplitude_deg=25") == ("reps.min_amplitude_deg", 25)
    assert parse_override("reps.rest=top") == ("reps.rest", "top")
    with pytest.raises(SettingsError):
        parse_override("reps.rest")


def test_python_overrides():
    assert Settings().replace(reps__rest="top").reps.rest == "top"


# Words that name a unit (or say there is none: a choice of names).
UNIT = re.compile(
    r"\b(deg(/s)?|s|Hz|px|h|torso lengths?|fraction|share|percentile|frames?|reps?|count|MADs|1/deg|"
    r"0-1|0-100|0-255 levels|Decimals|no unit|a name|MB|kB)\b|\(0-1\)|\(0-100\)|, (deg|s|px)\b",
    re.IGNORECASE,
)


def _fields():
    for section, info in Settings.model_fields.items():
        for key, field in info.annotation.model_fields.items():
            yield f"{section}.{key}", field


@pytest.mark.parametrize("name,field", list(_fields()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_setting_says_its_unit_and_why(name, field):
    text = field.description or ""
    assert len(text) > 30, f"{name}: the description must give the reason for the value"
    assert UNIT.search(text) or name.endswith(("_deg", "_s", "_hz", "_px", "_ratio", "_h")), (
        f"{name}: the description must name the unit: {text!r}"
    )


def test_the_unit_check_can_fail():
    assert not UNIT.search("A threshold that a clip needed.")
