"""Project folders: ``studio-project.toml`` read, migrated, validated and written atomically.

A project is a folder holding one :class:`ProjectConfig` as TOML. Image folders inside the
project's parent folder are stored relative to the project folder, so a project moved together
with its images still opens; others are stored absolute. Older files are migrated step by step
(a copy of the original is kept beside it); a broken file raises :class:`ProjectFileError`
naming the line and the setting.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from studio.config.errors import explain
from studio.config.schema import SCHEMA_VERSION, SETTINGS, ProjectConfig
from studio.errors import StudioError
from studio.fileio import atomic_write_bytes, atomic_write_text, remove_stale_temps

PROJECT_FILE = "studio-project.toml"
STALE_SECONDS = 60.0  # a save's temp file untouched this long was left by a killed process


class ProjectFileError(StudioError):
    """A project file that cannot be read, parsed or validated; the message names where."""


@dataclasses.dataclass
class Project:
    """An opened project: its folder, its config, and what happened while opening it."""

    folder: Path
    config: ProjectConfig
    migrated_from: int | None = None
    backup: Path | None = None

    @property
    def file(self) -> Path:
        return self.folder / PROJECT_FILE

    @property
    def name(self) -> str:
        return self.folder.name

    def missing_sources(self) -> list[Path]:
        """Image folders named by the project that are not there (moved or unplugged)."""
        return missing_sources(self.config)


# -- migrations ------------------------------------------------------------------------------
def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 0 (Studio 0.0 files): ``data.folders``, ``train.lr`` and a flat augmentation
    section (``preset`` plus ``horizontal_flip = true/false``)."""
    data = {**data}
    section = dict(data.get("data", {}))
    if "folders" in section:
        section["sources"] = section.pop("folders")
    data["data"] = section
    train = dict(data.get("train", {}))
    if "lr" in train:
        train["learning_rate"] = train.pop("lr")
    data["train"] = train
    augment = dict(data.get("augment", {}))
    flip = augment.get("horizontal_flip")
    if isinstance(flip, bool):
        if augment.get("preset", "light") == "none":
            del augment["horizontal_flip"]  # it never applied without a preset
        else:
            augment["horizontal_flip"] = {"enabled": flip}
    data["augment"] = augment
    return data


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 records which settings the user set (``user_set``); Studio derives the rest.
    A schema 1 file keeps exactly its settings: every setting that differs from its default
    counts as set by the user, and so do the weights and fine-tuning of a chosen model."""
    defaults = ProjectConfig().model_dump(mode="json")
    chosen = {
        f"{section}.{name}"
        for section, values in data.items()
        if isinstance(values, dict) and isinstance(defaults.get(section), dict)
        for name, value in values.items()
        if value != defaults[section].get(name)
    }
    if "model.name" in chosen:
        chosen |= {"model.weights", "model.strategy"}
    return {**data, "user_set": sorted(chosen & SETTINGS)}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2}


def migrate(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Bring a parsed project file up to :data:`SCHEMA_VERSION`; returns it and its old version.

    A file without ``schema_version`` is schema 0. A newer schema than this Studio knows is an
    error rather than a silent loss of settings."""
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ProjectFileError(f"schema_version: must be a whole number (got {version!r})")
    if version > SCHEMA_VERSION:
        raise ProjectFileError(
            f"schema_version {version} is newer than this Studio understands "
            f"({SCHEMA_VERSION}): update Studio to open this project"
        )
    start = version
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return {**data, "schema_version": SCHEMA_VERSION}, start


# -- paths -----------------------------------------------------------------------------------
def _to_stored(path: Path, folder: Path, levels: int = 1) -> str:
    """Relative to ``folder`` (the folder of the file that stores it) when the path lies within
    the folder's ancestor ``levels`` up (the project's parent; for a run folder in
    ``PROJECT/runs/``, the same), else absolute: they move together, or not at all."""
    path = Path(os.path.abspath(path))
    base = Path(os.path.abspath(folder))
    top = base.parents[levels - 1] if len(base.parents) >= levels else Path(base.anchor)
    if path.is_relative_to(top) and top != Path(base.anchor):
        return Path(os.path.relpath(path, base)).as_posix()
    return str(path)


def _from_stored(value: Any, folder: Path) -> Any:
    """A stored path made absolute again (relative ones are relative to ``folder``)."""
    if not isinstance(value, str):
        return value  # validation reports it
    path = Path(value).expanduser()
    return Path(os.path.abspath(path if path.is_absolute() else Path(folder) / path))


def map_paths(data: dict[str, Any], fn: Callable[[Any], Any]) -> dict[str, Any]:
    """``data`` with ``fn`` applied to every path in it: the image folders, the files edited,
    and a weights file."""
    model = data.get("model")
    if isinstance(model, dict) and model.get("weights") not in (None, "none", "imagenet"):
        data = {**data, "model": {**model, "weights": str(fn(model["weights"]))}}
    section = data.get("data")
    if not isinstance(section, dict):
        return data
    section = dict(section)
    for key in ("sources", "excluded_files", "kept_files"):
        if isinstance(section.get(key), list):
            section[key] = [fn(p) for p in section[key]]
    if isinstance(section.get("relabeled_files"), dict):
        section["relabeled_files"] = {str(fn(p)): c for p, c in section["relabeled_files"].items()}
    return {**data, "data": section}


def stored_path(path: Path | str, folder: Path, levels: int = 3) -> str:
    """How a file in ``folder`` (by default a run folder, ``PROJECT/runs/RUN``) stores
    ``path``: relative to ``folder`` when both sit in one project's tree, else absolute."""
    return _to_stored(Path(path), folder, levels)


def read_path(value: str, folder: Path) -> Path:
    """A path as stored by :func:`stored_path`, made absolute."""
    return _from_stored(value, folder)


# -- run folders -----------------------------------------------------------------------------
def run_config_json(config: ProjectConfig, run_dir: Path) -> str:
    """A run's ``config.json``: the settings it ran with, paths relative to the run folder
    where they share its project's tree (so the run works from any directory and moves with
    its project)."""
    import json

    data = map_paths(config.model_dump(mode="json"), lambda p: stored_path(p, run_dir))
    return json.dumps(data, indent=2, ensure_ascii=False)


def load_run_config(run_dir: Path) -> ProjectConfig:
    """The settings a run kept in ``run_dir/config.json`` (any Studio's), paths made absolute;
    one-line :class:`StudioError` when missing or damaged."""
    import json

    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise StudioError(f"{run_dir} is not a run folder: it has no config.json.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudioError(f"Cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StudioError(f"{path} is damaged: expected a table of settings.")
    data, _ = migrate(data)
    data = map_paths(data, lambda p: _from_stored(p, Path(run_dir)))
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise StudioError(f"{path} is damaged: {explain(exc, ProjectConfig)}") from None


# -- reading and writing ---------------------------------------------------------------------
def project_to_toml(config: ProjectConfig, folder: Path) -> str:
    """The TOML text of ``config`` as saved in ``folder``."""
    data = config.model_dump(mode="json")
    data = map_paths(data, lambda p: _to_stored(Path(p), folder))
    header = "# Studio project: edit in the app, or here by hand (then reopen the project).\n"
    return header + tomli_w.dumps(data)


def save_project(folder: Path, config: ProjectConfig) -> Path:
    """Write ``folder/studio-project.toml`` atomically (the folder is created); returns it."""
    folder = Path(folder)
    path = folder / PROJECT_FILE
    try:
        atomic_write_text(path, project_to_toml(config, folder))
    except OSError as exc:
        raise ProjectFileError(f"cannot save {path}: {exc.strerror or exc}") from None
    return path


def is_project(folder: Path) -> bool:
    return (Path(folder) / PROJECT_FILE).is_file()


def load_project(folder: Path, write_migration: bool = True) -> Project:
    """Open the project in ``folder`` (or the path of its ``studio-project.toml``).

    An older schema is migrated; with ``write_migration`` the original is first copied to
    ``studio-project.v<N>.toml.bak`` and the migrated file saved in its place."""
    folder = Path(folder)
    if folder.name == PROJECT_FILE:
        folder = folder.parent
    path = folder / PROJECT_FILE
    if not path.is_file():
        raise ProjectFileError(f"{folder} is not a Studio project (no {PROJECT_FILE} in it)")
    remove_stale_temps(folder, PROJECT_FILE, older_than=STALE_SECONDS)  # a killed save's
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectFileError(f"{path}: not valid TOML: {exc}") from None
    data, old_version = migrate(data)
    data = map_paths(data, lambda p: _from_stored(p, folder))
    try:
        config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        line = _line_of(text, [str(p) for p in exc.errors()[0]["loc"]])
        where = f"{path}, line {line}" if line else str(path)
        raise ProjectFileError(f"{where}: {explain(exc, ProjectConfig)}") from None
    project = Project(folder=folder, config=config)
    if old_version != SCHEMA_VERSION:
        project.migrated_from = old_version
        if write_migration:
            backup = folder / f"studio-project.v{old_version}.toml.bak"
            try:
                atomic_write_bytes(backup, raw)
            except OSError as exc:
                raise ProjectFileError(
                    f"{path} is from an older Studio and must be updated, but its backup "
                    f"cannot be written: {exc.strerror or exc}"
                ) from None
            save_project(folder, config)
            project.backup = backup
    return project


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _line_of(text: str, loc: list[str]) -> int | None:
    """The 1-based line where the setting at ``loc`` (e.g. ``train.learning_rate``) is
    written, or its table's header line; ``None`` when it is not written in the file."""
    table: list[str] = []
    header_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = [p.strip().strip("\"'") for p in header.group(1).split(".")]
            if table == loc[: len(table)] and header_line is None:
                header_line = number
            continue
        key = _KEY.match(line)
        if key:
            parts = [p.strip().strip("\"'") for p in key.group(1).split(".")]
            full = table + parts
            if full == loc[: len(full)] and len(full) >= min(len(loc), len(table) + 1):
                return number
    return header_line


# -- moved image folders ---------------------------------------------------------------------
def missing_sources(config: ProjectConfig) -> list[Path]:
    """Image folders of ``config`` that do not exist."""
    return [p for p in config.data.sources if not Path(p).is_dir()]


def relocate(config: ProjectConfig, moves: dict[Path, Path]) -> ProjectConfig:
    """A copy of ``config`` with every path under an old folder moved under its new one
    (image folders, excluded, relabelled and checked images alike)."""

    def move(path: Path) -> Path:
        for old, new in moves.items():
            if path == old or path.is_relative_to(old):
                return Path(new) / path.relative_to(old)
        return path

    data = config.data
    new_data = data.model_copy(
        update={
            "sources": [move(p) for p in data.sources],
            "excluded_files": [move(p) for p in data.excluded_files],
            "kept_files": [move(p) for p in data.kept_files],
            "relabeled_files": {move(p): c for p, c in data.relabeled_files.items()},
        }
    )
    return config.model_copy(update={"data": new_data}, deep=True)


def guess_relocation(missing: list[Path], new_home: Path) -> dict[Path, Path]:
    """Where each missing folder went, given the folder the user picked: the picked folder
    when it has the missing folder's name, else a same-named folder inside it or beside it;
    a single missing folder otherwise maps to the picked folder itself."""
    new_home = Path(new_home)
    moves: dict[Path, Path] = {}
    for old in missing:
        for candidate in (new_home, new_home / old.name, new_home.parent / old.name):
            if candidate.name == old.name and candidate.is_dir():
                moves[old] = candidate
                break
        else:
            if len(missing) == 1:
                moves[old] = new_home
    return moves
