"""The window fits the screens people have: 1280×720, and 1920×1080 at 150 % and 200 %.

Each case opens Studio as ``studio`` does, in its own process (``QT_SCALE_FACTOR`` and the
screen must be set before Qt starts; see ``fits_probe.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("fits_probe.py")
SCREENS = {  # physical size and scale -> the layout Studio should pick
    (1280, 720, 1.0): "tabbed",
    (1920, 1080, 1.5): "tabbed",
    (1920, 1080, 2.0): "narrow",
    (2560, 1440, 1.0): "wide",
}


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every screen probed at once, in parallel processes."""
    running = {
        screen: subprocess.Popen(
            [sys.executable, str(PROBE), *map(str, screen), str(tmp_path_factory.mktemp("h"))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for screen in SCREENS
    }
    out = {}
    for screen, process in running.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        out[screen] = json.loads(stdout.strip().splitlines()[-1])
    return out


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: f"{s[0]}x{s[1]}@{s[2]}")
def test_every_main_control_is_on_screen(probes: dict, screen: tuple) -> None:
    found = probes[screen]
    assert found["mode"] == SCREENS[screen]
    x, y, width, height = found["screen"]
    wx, wy, ww, wh = found["window"]
    assert x <= wx and y <= wy and wx + ww <= x + width and wy + wh <= y + height
    for name, place in found["controls"].items():
        assert place["inside"], f"{name} at {place['rect']} is off the screen {found['screen']}"
        assert place["shown"], f"{name} is hidden or cut"


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: f"{s[0]}x{s[1]}@{s[2]}")
def test_long_texts_wrap_whole(probes: dict, screen: tuple) -> None:
    found = probes[screen]
    assert found["controls"]["welcomeText"]["whole"], "the welcome steps are cut"
    assert found["resolved_whole"], "the 'Studio chose' reasons are cut"


@pytest.mark.parametrize("screen", list(SCREENS), ids=lambda s: f"{s[0]}x{s[1]}@{s[2]}")
def test_the_results_tab_fits_its_width(probes: dict, screen: tuple) -> None:
    found = probes[screen]["results"]
    assert not found["scrolls_sideways"], "the Results tab scrolls sideways"
    for name, inside in found["buttons_across"].items():
        assert inside, f"{name} is cut at the Results tab's edge"


def test_the_window_can_be_much_smaller_than_1280(probes: dict) -> None:
    for screen in ((1280, 720, 1.0), (1920, 1080, 2.0)):
        width, height = probes[screen]["minimum"]
        assert width <= 1024 and height <= 640, (screen, width, height)
