"""What differs between the settings of runs, setting by setting."""

from __future__ import annotations

import json
from typing import Any


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"epochs": 5}}`` → ``{"train.epochs": 5}`` (lists stay values)."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def config_differences(configs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The settings whose values differ between runs: dotted name → one value per run
    (``None`` where a run lacks it), in the order of the schema."""
    flats = [flatten(c) for c in configs]
    names: dict[str, None] = {}
    for flat in flats:
        names.update(dict.fromkeys(flat))
    return {
        name: [flat.get(name) for flat in flats]
        for name in names
        if len({json.dumps(flat.get(name), sort_keys=True) for flat in flats}) > 1
    }
