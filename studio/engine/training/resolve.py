"""The one settings resolver: the user's choices in, the complete config a run uses out, with
the reason for every value Studio derived.

A setting named in ``config.user_set`` is the user's and always wins over a derived value;
the machine may still lower it (loader workers), which is reported as a notice. Choices that
contradict each other raise :class:`Conflict`. Pure and cheap (no torch, no files), so the
window resolves on every edit and ``studio train --dry-run`` shows the same result.

:data:`RULES` is the table of derived settings, applied in order so that each rule sees the
ones before it: model → weights → fine-tuning → image size, then the rules that follow the
data (label-safe augmentation, batch size, epochs and warm-up, class weighting) and loader
workers. A rule that follows the data keeps the config's value while the data is not known
(``data=None``), so a project reopened before its folders are read keeps what was derived.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel

from studio.config import ModelConfig, ProjectConfig
from studio.config.augment import PRESET_TITLES, PRESETS, STEP_TYPES
from studio.config.schema import SECTIONS, SETTINGS
from studio.engine.machine import Machine
from studio.engine.models.catalog import ModelSpec, get_spec
from studio.engine.training.loader_workers import ON_CPU, loader_workers
from studio.errors import StudioError

Decision = tuple[Any, str]  # a value and why, in plain words
Source = Literal["user", "derived", "lowered"]


@dataclasses.dataclass(frozen=True)
class DataFacts:
    """What the data report knows, for rules that follow the data: images per class (the
    class names are its keys), the sizes of a sample of them as ``(width, height)``, and
    the average colour of a few images per class (``ClassColour``: hue, saturation, ink),
    built by :func:`studio.engine.training.data_facts.data_facts`."""

    class_counts: dict[str, int] = dataclasses.field(default_factory=dict)
    image_sizes: tuple[tuple[int, int], ...] = ()
    colours: Mapping[str, Any] | None = None

    @property
    def classes(self) -> list[str]:
        return list(self.class_counts)

    @property
    def images(self) -> int:
        return sum(self.class_counts.values())


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
    follows_data: bool = False


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
            "settings": {
                n: {**dataclasses.asdict(s), "value": _json(s.value)}
                for n, s in self.settings.items()
            },
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
        reason = f"{_title(rule.name)} {shown(value)}: {why}"
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
    named = "user_set" in config.model_fields_set
    while True:  # a value marked as the user's can change what the others derive
        try:
            resolved = resolve(work)
        except Conflict:  # the front end's own resolve reports it
            break
        theirs = {
            r.name for r in RULES if r.name not in chosen and _theirs(r, work, resolved, named)
        }
        if not theirs:
            break
        chosen |= theirs
        work.user_set = sorted(chosen)
    defaults, derived = ProjectConfig(), {rule.name for rule in RULES}
    for name in SETTINGS - derived if not named else ():  # Studio's own files name them
        if _written(work, name) and _get(work, name) != _get(defaults, name):
            chosen.add(name)
    work.user_set = sorted(chosen)
    return work


def _theirs(rule: Rule, config: ProjectConfig, resolved: Resolution, named: bool) -> bool:
    """Written with a value Studio would not derive (a count where "auto" would do, too).
    A setting that follows the data is judged only where ``user_set`` was not written (code,
    a file edited by hand): Studio's own files name the user's settings, and without the
    data a value derived from it cannot be told from the user's. Where it is judged, a
    setting that needs the data counts as the user's if it is not its default."""
    if not _written(config, rule.name):
        return False
    if rule.follows_data and named:
        return False
    value = _get(config, rule.name)
    if rule.auto:
        return value not in rule.auto
    if resolved.settings[rule.name].reason.endswith(_UNKNOWN):
        return value != _get(ProjectConfig(), rule.name)
    return value != _get(resolved.config, rule.name)


def _written(config: ProjectConfig, name: str) -> bool:
    section, field = name.split(".")
    return field in getattr(config, section).model_fields_set


def check(config: ProjectConfig) -> None:
    """Raise :class:`Conflict` if ``config``'s choices contradict each other (the trainer's
    last word on a config it is given as it is)."""
    context = Context(config, None, None)
    for rule in CHECKS:
        rule(context)


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
    spec, data = context.spec, context.data
    size = spec.default_image_size
    if context.config.model.weights != "none":
        return size, f"the pre-trained weights were made at {size} px"
    if spec.fixed_size or not data or not data.image_sizes:
        return size, f"the usual input size of {spec.title}"
    from studio.engine.data.health import SIZE_CHOICES  # PIL is loaded once data is read

    width = round(statistics.median(w for w, _ in data.image_sizes))
    height = round(statistics.median(h for _, h in data.image_sizes))
    fitting = [s for s in SIZE_CHOICES if s <= min(width, height, size)] or [SIZE_CHOICES[0]]
    if fitting[-1] == size:
        return size, (
            f"the usual input size of {spec.title}; your images are larger "
            f"(median {width}×{height} px)"
        )
    return fitting[-1], (
        f"your images are {width}×{height} px (median): {spec.title} trains at about their "
        "own size, so no detail is invented and each epoch is faster"
    )


# -- rules that follow the data --------------------------------------------------------------
KEPT_AS_IS = "as in"  # how the reason of an augmentation step Studio left alone begins
GUARDED_STEPS = ("horizontal_flip", "vertical_flip", "rotate", "hue_saturation", "grayscale")
TARGET_STEPS = 250  # optimizer steps that take a small network most of the way
MIN_EPOCHS, MAX_EPOCHS = 6, 40
EARLY_STOP_FROM = 12  # epochs: a run this long stops by itself once it stops improving
WARMUP_STEPS = 50
IMBALANCE = 3.0  # largest class this many times the smallest: weight the loss
CPU_BATCH = 32
GPU_MEMORY_PER_IMAGE = 24 << 20  # what one 224 px image costs a ResNet-50 in training


_UNKNOWN = "follows the data, once it is read"


def _unknown(context: Context, name: str) -> Decision:
    """While the data is not read, a data rule keeps the config's value."""
    return _get(context.config, name), _UNKNOWN


def _step_rule(step: str) -> Rule:
    """The label-safe value of augmentation ``step``: the preset's, turned off (or toned
    down) when the label-safety check warns about it for these classes."""

    def derive(context: Context) -> Decision:
        from studio.engine.augment.advice import LARGE_ROTATION, augmentation_warnings

        augment = context.config.augment
        preset = augment.preset
        base = (
            STEP_TYPES[step](**PRESETS[preset].get(step, {"enabled": False}))
            if preset in PRESETS
            else getattr(augment, step)
        )
        origin = f"the {PRESET_TITLES[preset]} preset" if preset in PRESETS else "your pipeline"
        # in a custom pipeline a step Studio turned off stays off: judge it as if it were on
        judged = base if preset in PRESETS else base.model_copy(update={"enabled": True})
        if not context.data or not judged.enabled:
            return base, f"{KEPT_AS_IS} {origin}"
        trial = augment.model_copy(update={step: judged})
        advice = [
            a
            for a in augmentation_warnings(trial, context.data.classes, context.data.colours)
            if a.step == step
        ]
        if not advice:
            return base, f"{KEPT_AS_IS} {origin}; nothing about your classes speaks against it"
        text = _without_fix(advice[0].text)
        if step == "rotate":
            safe = base.model_copy(update={"degrees": LARGE_ROTATION})
            return safe, f"toned down to {LARGE_ROTATION:.0f}°. {text}"
        if step == "hue_saturation":
            limit = max(1.0, math.floor(_hue_limit(advice[0].text)))
            return base.model_copy(update={"hue_degrees": limit}), f"hue toned down. {text}"
        return base.model_copy(update={"enabled": False}), text[:1].lower() + text[1:]

    return Rule(f"augment.{step}", derive, follows_data=True)


def _without_fix(text: str) -> str:
    """The advice's reason without its closing "Turn this off." (Studio did just that)."""
    head, dot, last = text.rstrip(".").rpartition(". ")
    return f"{head}." if dot and last.startswith(("Turn", "Keep")) else text


def _hue_limit(text: str) -> float:
    """The safe hue shift the advice names ("Keep it under N°")."""
    tail = text.rpartition("under ")[2]
    digits = "".join(ch for ch in tail if ch.isdigit() or ch == ".")
    return float(digits or 1) - 1


def _train_images(context: Context) -> int:
    data = context.data
    share = 1 - context.config.data.val_fraction - context.config.data.test_fraction
    return max(1, round(data.images * share)) if data else 0


def _batch_size(context: Context) -> Decision:
    if not context.data:
        return _unknown(context, "train.batch_size")
    images = _train_images(context)
    device, machine = _device(context), context.machine
    batch, why = CPU_BATCH, "on a CPU, 32 images a step keep the weights updating often"
    if device in ("cuda", "mps") and machine is not None and machine.accelerator_memory:
        size = context.config.train.image_size
        per_image = GPU_MEMORY_PER_IMAGE * (size / 224) ** 2
        fits = int(machine.accelerator_memory * 0.5 // max(per_image, 1))
        batch = max(16, min(256, 1 << max(4, fits.bit_length() - 1)))
        why = (
            f"fits in half of the GPU's {machine.accelerator_memory / (1 << 30):.0f} GiB at "
            f"{size} px"
        )
    if images < batch * 8:  # few images: smaller batches give more steps per epoch
        small = max(8, 1 << max(3, (images // 8).bit_length() - 1))
        if small < batch:
            steps = images // small
            return small, f"{images} training images: {small} a step give {steps} steps an epoch"
    return batch, why


def _epochs(context: Context) -> Decision:
    if not context.data:
        return _unknown(context, "train.epochs")
    images, batch = _train_images(context), context.config.train.batch_size
    steps = max(1, math.ceil(images / batch))
    epochs = min(MAX_EPOCHS, max(MIN_EPOCHS, round(TARGET_STEPS / steps)))
    return epochs, (
        f"{images} training images in batches of {batch} are {steps} steps an epoch; "
        f"{epochs} epochs give about {epochs * steps} steps, enough for the model to settle"
    )


def _warmup(context: Context) -> Decision:
    if not context.data:
        return _unknown(context, "train.warmup_epochs")
    images, batch = _train_images(context), context.config.train.batch_size
    steps = max(1, math.ceil(images / batch))
    warmup = round(min(context.config.train.epochs / 4, max(0.5, WARMUP_STEPS / steps)), 1)
    return warmup, (
        f"the learning rate ramps up over about {round(warmup * steps)} steps, then follows "
        "the schedule down"
    )


def _early_stopping(context: Context) -> Decision:
    if not context.data:
        return _unknown(context, "train.early_stopping")
    epochs = context.config.train.epochs
    if epochs >= EARLY_STOP_FROM:
        return True, (
            f"{epochs} epochs: the run stops once validation stops improving, and keeps the "
            "best epoch"
        )
    return False, f"{epochs} epochs are short enough to run to the end"


def _class_weighting(context: Context) -> Decision:
    if not context.data:
        return _unknown(context, "train.class_weighting")
    counts = [n for n in context.data.class_counts.values() if n > 0]
    if len(counts) < 2:
        return "none", "one class or none"
    ratio = max(counts) / min(counts)
    if ratio >= IMBALANCE:
        return "loss", (
            f"your largest class has {ratio:.0f}× the images of your smallest: mistakes on "
            "rare classes count more, so the model does not just learn to ignore them"
        )
    return "none", f"your classes are balanced enough (largest {ratio:.1f}× the smallest)"


def _auto_workers(context: Context) -> Decision:
    device = _device(context)
    if device == "cpu":
        return 0, ON_CPU
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
    Rule("train.image_size", _image_size, follows_data=True),
    *(_step_rule(step) for step in GUARDED_STEPS),
    Rule("train.batch_size", _batch_size, follows_data=True),
    Rule("train.epochs", _epochs, follows_data=True),
    Rule("train.warmup_epochs", _warmup, follows_data=True),
    Rule("train.early_stopping", _early_stopping, follows_data=True),
    Rule("train.class_weighting", _class_weighting, follows_data=True),
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


def _json(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def shown(value: Any) -> Any:
    """A value as a reason (and ``--dry-run``) names it: an augmentation step as on/off."""
    if isinstance(value, BaseModel):
        return "on" if getattr(value, "enabled", False) else "off"
    return value


def _title(name: str) -> str:
    section, field = name.split(".")
    return (SECTIONS[section].model_fields[field].title or field).lower()
