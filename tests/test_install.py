"""Install paths as a user takes them: the wheel through ``uv tool install``, and the Linux
desktop entry, icons and AppStream metainfo (checked with Debian's validators)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio import __version__, desktop
from studio.resources import resource_path

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv")


def _run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None):
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=240, env=env, cwd=cwd
    )
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.skipif(UV is None, reason="uv is not on PATH: it builds and installs the wheel")
def test_wheel_installs_with_uv_tool_and_trains_on_its_sample(tmp_path: Path):
    """``uv build`` + ``uv tool install`` from uv's cache (offline, the lock's versions)."""
    started = time.perf_counter()
    _run(UV, "build", "--offline", "--quiet", "--wheel", "--out-dir", tmp_path / "dist", ROOT)
    (wheel,) = (tmp_path / "dist").glob("studio-*.whl")
    pins = _run(
        UV, "export", "--offline", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project",
        "--quiet", "--project", ROOT,
    ).stdout  # fmt: skip
    (tmp_path / "pins.txt").write_text(pins)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env |= {
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
        "NO_ALBUMENTATIONS_UPDATE": "1",
    }
    install = subprocess.run(
        [UV, "tool", "install", "--offline", "--python", sys.executable,
         "--constraints", str(tmp_path / "pins.txt"), str(wheel)],
        capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    if install.returncode and "network was disabled" in install.stderr:
        pytest.skip(  # tests never reach the network; `uv sync` from a lock caches no index
            "uv's cache lacks a registry index page the offline install needs: "
            + install.stderr.strip().splitlines()[0]
        )
    assert install.returncode == 0, install.stderr
    studio = tmp_path / "bin" / "studio"
    assert _run(studio, "--version", env=env).stdout.strip() == f"studio {__version__}"
    menu = {**env, "XDG_DATA_HOME": str(tmp_path / "share")}
    _run(studio, "--install-desktop-entry", env=menu)  # the wheel carries resources/linux too
    entry = desktop.installed_files(tmp_path / "share")[0].read_text()
    assert f"Exec={studio}\n" in entry

    python = tmp_path / "tools" / "studio" / "bin" / "python"
    where = "from studio.resources import sample_dataset as s; print(s())"
    sample = Path(_run(python, "-c", where, env=env, cwd=tmp_path).stdout.strip())
    assert sample.is_relative_to(tmp_path / "tools"), "resources must come from the wheel"
    assert len(list(sample.iterdir())) == 5

    run = tmp_path / "run"
    _run(
        studio, "train", "--data", sample, "--epochs", "1", "--image-size", "32",
        "--batch-size", "64", "--device", "cpu", "--out", run, "--quiet", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert '"status": "finished"' in (run / "events.jsonl").read_text().splitlines()[-1]
    assert (run / "best.safetensors").is_file()
    print(f"wheel build + install + train: {time.perf_counter() - started:.1f} s")


def _validator(name: str, package: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (Debian package {package}; .ci/run installs it)")
    return exe


def test_desktop_entry_passes_desktop_file_validate():
    exe = _validator("desktop-file-validate", "desktop-file-utils")
    _run(exe, resource_path("linux", f"{desktop.APP_ID}.desktop"))


def test_metainfo_passes_appstreamcli_validate():
    exe = _validator("appstreamcli", "appstream")
    _run(exe, "validate", "--no-net", resource_path("linux", f"{desktop.APP_ID}.metainfo.xml"))


def test_icon_comes_as_svg_and_every_png_size():
    from PIL import Image

    assert resource_path("icons", "studio.svg").read_text().startswith("<svg")
    for size in desktop.ICON_SIZES:
        with Image.open(resource_path("icons", "png", f"studio-{size}.png")) as png:
            assert png.size == (size, size)


def test_install_and_uninstall_desktop_entry_for_the_user(tmp_path: Path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")}
    installed = _run(sys.executable, "-m", "studio", "--install-desktop-entry", env=env)
    assert "Installed" in installed.stdout
    files = desktop.installed_files(tmp_path / "share")
    assert all(f.is_file() for f in files)
    entry = files[0].read_text()
    assert f"Exec={sys.executable} -m studio" in entry
    assert f"Icon={desktop.APP_ID}" in entry
    if shutil.which("desktop-file-validate"):
        _run("desktop-file-validate", files[0])  # the rewritten Exec line is valid too

    removed = _run(sys.executable, "-m", "studio", "--uninstall-desktop-entry", env=env)
    assert f"Removed {len(files)} files." in removed.stdout
    assert not any(f.exists() for f in files)


def test_exec_line_quotes_paths_with_spaces(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/My Apps/Studio/studio")
    desktop.install(tmp_path)
    entry = desktop.installed_files(tmp_path)[0].read_text()
    assert 'Exec="/opt/My Apps/Studio/studio"\n' in entry


def test_version():
    version = subprocess.run(
        [sys.executable, "-m", "studio", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"studio {__version__}"
