"""``studio train … --dry-run [--json]``: the settings a run would use, and why, untrained."""

from __future__ import annotations

import json

from studio.engine.training.resolve import Resolution, shown

_SOURCES = {"user": "set by you", "derived": "Studio's choice", "lowered": "lowered"}


def show(resolution: Resolution, as_json: bool) -> int:
    """Print ``resolution``: its derived settings with their reasons, the other settings the
    user set, and its notices; ``as_json``: the whole config too."""
    if as_json:
        print(json.dumps(resolution.to_json(), indent=2))
        return 0
    config = resolution.config
    print("Settings for this run (--dry-run: nothing is trained)")
    for name, setting in resolution.settings.items():
        why = setting.reason.partition(": ")[2]
        why_shown = why if setting.source != "user" else _SOURCES["user"]
        print(f"  {name:<24} {shown(setting.value)!s:<8} {why_shown}")
    others = [n for n in config.user_set if n not in resolution.settings]
    for name in others:
        section, field = name.split(".")
        value = getattr(getattr(config, section), field)
        if hasattr(value, "model_dump"):
            value = json.dumps(value.model_dump(mode="json"))
        print(f"  {name:<24} {value!s:<8} {_SOURCES['user']}")
    for notice in resolution.notices:
        print(f"  ! {notice}")
    print("Everything else keeps its default; --json prints the whole config.")
    return 0
