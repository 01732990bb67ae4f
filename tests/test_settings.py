"""Every setting is documented, read from the environment with its type, and bad values fail clearly."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import DEFAULTS, from_environment

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"`VETTED_([A-Z_]+)`", README))
    # Besides the app's settings, the README documents where the instance lives and how gunicorn serves it.
    assert documented == set(DEFAULTS) | {"INSTANCE_PATH", "BIND", "WORKERS", "THREADS"}


def test_environment_values_take_the_type_of_their_default() -> None:
    env = {"VETTED_API_RATE_LIMIT": "7", "VETTED_ALLOW_SELF_APPROVAL": "yes", "VETTED_ENCODER": "e5",
           "OTHER": "ignored"}
    assert from_environment(env) == {"API_RATE_LIMIT": 7, "ALLOW_SELF_APPROVAL": True, "ENCODER": "e5"}


def test_a_bad_number_stops_start_up_with_one_line() -> None:
    with pytest.raises(SystemExit, match="VETTED_API_RATE_LIMIT must be a whole number"):
        from_environment({"VETTED_API_RATE_LIMIT": "many"})


def test_environment_overrides_instance_config(monkeypatch, tmp_path) -> None:
    from app import create_app

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("API_RATE_LIMIT = 5\nSUGGEST_K = 4\n")
    monkeypatch.setenv("VETTED_API_RATE_LIMIT", "9")
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    assert app.config["API_RATE_LIMIT"] == 9 and app.config["SUGGEST_K"] == 4
