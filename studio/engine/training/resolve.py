"""The one settings resolver: the user's choices in, the complete config a run uses out, with
the reason for every value Studio derived.

A setting named in ``config.user_set`` is the user's and always wins over a derived value;
the machine may still lower it (loader workers), which is reported as a notice. Choices that
contradict each other raise :class:`Conflict`. Pure and cheap (no torch, no files), so the
window resolves on every edit and ``studio train --dry-run`` shows the same result.

:data:`RULES` is the table of derived settings, applied in order so that each rule sees the
ones before it: model → weights → fine-tuning → image size, then loader workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

from studio.config import ModelConfig, ProjectConfig
from studio.config.schema import SECTIONS, SETTINGS
from studio.engine.machine import Machine
from studio.engine.models.catalog import ModelSpec, get_spec
from studio.errors import StudioError

Decision = tuple[Any, str]  # a value and why, in plain words
Source = Literal["user", "derived", "lowered"]
WORKER_MEMORY = 1 << 30  # about what one loader process holds: torch and a few batches
MAX_AUTO_WORKERS = 8  # more rarely speeds up decoding and costs start-up time and memory


@dataclasses.dataclass(frozen=True)
class DataFacts:
    """What the data report knows, for rules that follow the data (images per class, their
    sizes as ``(width, height)``)."""

    class_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    image_sizes: tuple[tuple[int, int], ...] = ()


@dataclasses.dataclass
class Context:
    """What a rule sees: the config being resolved (earlier rules' values already in it),
    the machine (``None`` while the window has not detected it yet) and the data."""

    config: ProjectConfig
    machine: Machine | None
    data: DataFacts | None

    @property
    def spec(self) -> ModelSpec:
        return get_spec(self.config.model.name)

    def user_set(self, name: str) -> bool:
        return name in self.config.user_set


@dataclasses.dataclass(frozen=True)
class Rule:
    """How Studio decides one setting (``name``, e.g. ``"train.image_size"``) the user has
    not set. ``limit`` may lower a value the user set that the machine cannot run; ``auto``
    lists values that ask Studio to choose even when set (``num_workers = "auto"``)."""

    name: str
    derive: Callable[[Context], Decision]
    limit: Callable[[Context, Any], Decision | None] | None = None
    auto: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class Resolved:
    """One setting's outcome: its value, who decided it and the reason, e.g.
    ``"image size 224: the pre-trained weights were made at 224 px"``."""

    value: Any
    source: Source
    reason: str


@dataclasses.dataclass(frozen=True)
class Resolution:
    """The complete config a run uses, each rule's outcome (in :data:`RULES` order) and the
    notices for requests the machine lowered."""

    config: ProjectConfig
    settings: dict[str, Resolved]
    notices: tuple[str, ...] = ()

    @property
    def derived(self) -> list[str]:
        return [name for name, s in self.settings.items() if s.source == "derived"]

    def kept_values(self) -> dict[str, Any]:
        """The derived values a project keeps and shows: a setting that has an ``auto``
        value keeps it, so it is derived again on whichever machine runs the project."""
        autos = {rule.name: rule.auto[0] for rule in RULES if rule.auto}
        return {name: autos.get(name, self.settings[name].value) for name in self.derived}

    def reason(self, name: str) -> str | None:
        setting = self.settings.get(name)
        return setting.reason if setting else None

    def to_json(self) -> dict[str, Any]:
        """``studio train --dry-run --json``: the config and every setting's reason."""
        return {
            "config": self.config.model_dump(mode="json"),
            "settings": {n: dataclasses.asdict(s) for n, s in self.settings.items()},
            "notices": list(self.notices),
        }


class Conflict(StudioError):
    """Choices that cannot all hold. ``names`` are the settings involved, the one that should
    give way first listed first, so a front end can let the latest edit win."""

    def __init__(self, names: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.names = names


def resolve(
    config: ProjectConfig, machine: Machine | None = None, data: DataFacts | None = None
) -> Resolution:
    """Derive every setting of ``config`` the user has not set; ``config`` is not changed.

    Without a ``machine``, settings that depend on it keep their value (``"auto"``)."""
    work = config.model_copy(deep=True)
    context = Context(work, machine, data)
    settings: dict[str, Resolved] = {}
    notices: list[str] = []
    for rule in RULES:
        current = _get(work, rule.name)
        if context.user_set(rule.name) and current not in rule.auto:
            lowered = rule.limit(context, current) if rule.limit else None
            source: Source = "lowered" if lowered else "user"
            value, why = lowered or (current, "set by you")
        else:
            source, (value, why) = "derived", rule.derive(context)
        _set(work, rule.name, value)
        reason = f"{_title(rule.name)} {value}: {why}"
        settings[rule.name] = Resolved(value, source, reason)
        if source == "lowered":
            notices.append(reason[:1].upper() + reason[1:])
    for check in CHECKS:
        check(context)
    return Resolution(work, settings, tuple(notices))


def adopt(config: ProjectConfig) -> ProjectConfig:
    """``config`` from outside the resolver (a project file edited by hand, a config written
    by code), where every setting that was written (``model_fields_set``) with a value Studio
    would not choose (derive, or default) counts as set by the user, so resolving keeps it.
    Front ends call it on what they load, never on what they resolved themselves."""
    work = config.model_copy(deep=True)
    chosen = set(work.user_set)
    while True:  # a value marked as the user's can change what the others derive
        try:
            resolved = resolve(work).config
        except Conflict:  # the front end's own resolve reports it
            break
        theirs = {r.name for r in RULES if r.name not in chosen and _theirs(r, work, resolved)}
        if not theirs:
            break
        chosen |= theirs
        work.user_set = sorted(chosen)
    defaults, derived = ProjectConfig(), {rule.name for rule in RULES}
    for name in SETTINGS - derived:
        if _written(work, name) and _get(work, name) != _get(defaults, name):
            chosen.add(name)
    work.user_set = sorted(chosen)
    return work


def _theirs(rule: Rule, config: ProjectConfig, resolved: ProjectConfig) -> bool:
    """Written with a value Studio would not derive (a count where "auto" would do, too)."""
    if not _written(config, rule.name):
        return False
    value = _get(config, rule.name)
    return value not in rule.auto if rule.auto else value != _get(resolved, rule.name)


def _written(config: ProjectConfig, name: str) -> bool:
    section, field = name.split(".")
    return field in getattr(config, section).model_fields_set


def check(config: ProjectConfig) -> None:
    """Raise :class:`Conflict` if ``config``'s choices contradict each other (the trainer's
    last word on a config it is given as it is)."""
    context = Context(config, None, None)
    for rule in CHECKS:
        rule(context)


# -- loader workers --------------------------------------------------------------------------
def max_workers(machine: Machine) -> int:
    """Loader processes ``machine`` can run: all cores but one (left to the window and the
    training loop), and one per :data:`WORKER_MEMORY` of half its memory."""
    cap = machine.cores - 1
    if machine.memory_bytes is not None:
        cap = min(cap, machine.memory_bytes // 2 // WORKER_MEMORY)
    return max(0, cap)


def loader_workers(requested: int | str, device: str, machine: Machine) -> Decision:
    """The loader processes a run on ``device`` (``cpu``, ``cuda``, ``mps``) starts for
    ``requested`` (``"auto"`` or a count), and why; never more than :func:`max_workers`."""
    if requested == "auto" and device == "cpu":
        return 0, _ON_CPU
    cap = max_workers(machine)
    if requested == "auto":
        count = min(MAX_AUTO_WORKERS, cap)
        return count, (
            f"on a GPU, processes decode images while it trains: all cores but one "
            f"(of {machine.cores}), at most {MAX_AUTO_WORKERS}"
        )
    if int(requested) > cap:
        return (
            cap,
            f"you asked for {requested}, but this machine runs at most {cap} ({_room(machine)})",
        )
    return int(requested), "set by you"


_ON_CPU = "on a CPU the training process decodes the images itself, with no start-up cost"


def _room(machine: Machine) -> str:
    cores = f"{machine.cores} cores, one kept for the window"
    if machine.memory_bytes is None:
        return cores
    gib = machine.memory_bytes / (1 << 30)
    return f"{cores}; {gib:.0f} GiB of memory, about {WORKER_MEMORY >> 30} GiB per worker"


def _device(context: Context) -> str | None:
    device = context.config.train.device
    if device != "auto":
        return device
    return context.machine.accelerator if context.machine else None


# -- the rules -------------------------------------------------------------------------------
def _model(context: Context) -> Decision:
    name = ModelConfig.model_fields["name"].default
    return (
        name,
        "a small network that trains in seconds on a CPU; pick a pre-trained one for photos",
    )


def _weights(context: Context) -> Decision:
    spec = context.spec
    if not spec.has_pretrained:
        return "none", f"{spec.title} has no pre-trained weights"
    if context.user_set("model.strategy") and context.config.model.strategy == "scratch":
        return "none", "the scratch strategy starts from random weights"
    size = context.config.train.image_size
    if spec.fixed_size and context.user_set("train.image_size") and size != spec.fixed_size:
        return "none", (
            f"{spec.title}'s pre-trained weights need {spec.fixed_size} px images, and you "
            f"chose {size} px"
        )
    return "imagenet", (
        f"{spec.title} has ImageNet weights; fine-tuning them needs far fewer images than "
        "training from scratch"
    )


def _strategy(context: Context) -> Decision:
    model = context.config.model
    if model.weights == "none":
        return "scratch", "no pre-trained weights, so every layer learns from random values"
    return "full", (
        f"pre-trained weights are used; every layer learns, the pre-trained ones at "
        f"{model.backbone_lr_factor:g}× the learning rate"
    )


def _image_size(context: Context) -> Decision:
    spec = context.spec
    size = spec.default_image_size
    if context.config.model.weights != "none":
        return size, f"the pre-trained weights were made at {size} px"
    return size, f"the usual input size of {spec.title}"


def _auto_workers(context: Context) -> Decision:
    device = _device(context)
    if device == "cpu":
        return 0, _ON_CPU
    if device is None or context.machine is None:
        return "auto", "chosen when training starts, for the machine that trains"
    return loader_workers("auto", device, context.machine)


def _cap_workers(context: Context, requested: int) -> Decision | None:
    device = _device(context)
    if context.machine is None or device is None:
        return None
    count, why = loader_workers(requested, device, context.machine)
    return (count, why) if count < requested else None


RULES: tuple[Rule, ...] = (
    Rule("model.name", _model),
    Rule("model.weights", _weights),
    Rule("model.strategy", _strategy),
    Rule("train.image_size", _image_size),
    Rule("train.num_workers", _auto_workers, limit=_cap_workers, auto=("auto",)),
)


# -- choices that contradict each other ------------------------------------------------------
def _pretrained_exists(context: Context) -> None:
    spec, weights = context.spec, context.config.model.weights
    if weights != "none" and not spec.has_pretrained:
        raise Conflict(
            ("model.weights", "model.name"),
            f"{spec.title} has no pre-trained weights: use weights 'none'.",
        )


def _strategy_fits_weights(context: Context) -> None:
    model = context.config.model
    if model.strategy == "scratch" and model.weights != "none":
        raise Conflict(
            ("model.weights", "model.strategy"),
            "The 'scratch' strategy starts from random weights: use weights 'none', or pick "
            "another strategy to fine-tune pre-trained weights.",
        )
    if model.strategy != "scratch" and model.weights == "none":
        spec = context.spec
        if spec.has_pretrained:
            names = ("model.strategy", "model.weights")
            fix = "use weights 'imagenet' or a weights file, or the 'scratch' strategy"
        else:
            names = ("model.strategy", "model.name")
            fix = f"{spec.title} has none, so use the 'scratch' strategy"
        raise Conflict(
            names, f"The '{model.strategy}' strategy fine-tunes pre-trained weights: {fix}."
        )


def _size_fits_model(context: Context) -> None:
    spec, size = context.spec, context.config.train.image_size
    if spec.fixed_size is None or size == spec.fixed_size:
        return
    if context.config.model.weights != "none":
        raise Conflict(
            ("model.weights", "train.image_size"),
            f"{spec.title}'s pre-trained weights need {spec.fixed_size} px images: set the "
            f"image size to {spec.fixed_size}.",
        )
    if size % 16:
        raise Conflict(
            ("train.image_size",),
            f"{spec.title} needs an image size divisible by 16.",
        )


CHECKS: tuple[Callable[[Context], None], ...] = (
    _pretrained_exists,
    _strategy_fits_weights,
    _size_fits_model,
)


# -- dotted names ----------------------------------------------------------------------------
def _get(config: ProjectConfig, name: str) -> Any:
    section, field = name.split(".")
    return getattr(getattr(config, section), field)


def _set(config: ProjectConfig, name: str, value: Any) -> None:
    section, field = name.split(".")
    setattr(getattr(config, section), field, value)


def _title(name: str) -> str:
    section, field = name.split(".")
    return (SECTIONS[section].model_fields[field].title or field).lower()
