"""The one configuration object: what to train on, how to augment, which model, which knobs.

Field titles, ranges and descriptions live here once; the GUI builds its inputs and tooltips
from them and the CLI its help text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from studio.config.augment import AugmentConfig

SCHEMA_VERSION = 2
MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit
MAX_WORKERS = 100_000  # a sanity bound; the resolver caps workers at what the machine runs


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Where the images are and how they are split."""

    sources: list[Path] = Field(
        default_factory=list,
        title="Image folders",
        description="Folders of images: a root with one subfolder per class, or class folders.",
    )
    val_fraction: float = Field(
        0.2,
        ge=0.05,
        le=0.5,
        title="Validation share",
        description="Share of each class held out to measure how well the model generalises. "
        "Track validation accuracy, not training accuracy.",
    )
    test_fraction: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        title="Test share",
        description="Share of each class kept aside for a final test: never trained on nor used "
        "to pick the best epoch. Folders named train/val/test are used as given.",
    )
    excluded_files: list[Path] = Field(
        default_factory=list,
        title="Excluded images",
        description="Images left out of training (the files are not touched).",
    )
    relabeled_files: dict[Path, str] = Field(
        default_factory=dict,
        title="Relabelled images",
        description="Images trained as another class than their folder's, image to class "
        "(the files are not moved).",
    )
    kept_files: list[Path] = Field(
        default_factory=list,
        title="Labels checked",
        description="Images whose label you checked and kept: label-issue lists skip them.",
    )
    excluded_classes: list[str] = Field(
        default_factory=list,
        title="Excluded classes",
        description="Classes left out of training (the folders are not touched).",
    )
    class_names: dict[str, str] = Field(
        default_factory=dict,
        title="Renamed classes",
        description="Display names for classes, folder name to new name (folders untouched).",
    )


class ModelConfig(_Section):
    """Which network to train and what it starts from."""

    name: str = Field(
        "small_cnn",
        title="Model",
        description="Start simple: a small model first, a bigger pre-trained one if it underfits.",
    )
    weights: str = Field(
        "none",
        title="Weights",
        description="'imagenet' starts from pre-trained weights (recommended), 'none' trains "
        "from scratch, or the path of a weights file.",
    )
    dropout: float = Field(
        0.2,
        ge=0.0,
        le=0.9,
        title="Dropout",
        description="Share of features randomly dropped before the classifier while training. "
        "Try 0.2–0.5 if the model overfits.",
    )
    strategy: Literal["linear", "partial", "full", "scratch"] = Field(
        "scratch",
        title="Fine-tuning",
        description="linear: train only the new head on a frozen backbone (fastest, good for "
        "few images). partial: also the last stages. full: everything, the backbone more "
        "gently. scratch: random weights, needs far more data.",
    )
    unfreeze: int = Field(
        1,
        ge=1,
        le=20,
        title="Stages to unfreeze",
        description="With partial fine-tuning: how many of the backbone's last stages learn.",
    )
    backbone_lr_factor: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        title="Backbone LR factor",
        description="Pre-trained layers learn at the learning rate times this (0.1 = ten "
        "times more gently than the new head), so fine-tuning does not erase what they know.",
    )


class TrainConfig(_Section):
    """The knobs of the training loop."""

    epochs: int = Field(
        10,
        ge=1,
        le=1000,
        title="Epochs",
        description="Passes over the training images. Watch the validation curve: more epochs "
        "help until it stops improving.",
    )
    batch_size: int = Field(
        32,
        ge=1,
        le=4096,
        title="Batch size",
        description="Images per step. 32 or 64 are common starting points; lower it if memory "
        "runs out.",
    )
    learning_rate: float = Field(
        1e-3,
        gt=0.0,
        le=10.0,
        title="Learning rate",
        description="Step size of the optimizer. Start around 0.001. If training is unstable, "
        "go lower; if it learns too slowly, go higher.",
    )
    image_size: int = Field(
        64,
        ge=16,
        le=1024,
        title="Image size",
        description="Images are resized to this many pixels square. Larger sees more detail "
        "but trains slower; pre-trained models like 224.",
    )
    seed: int = Field(
        0,
        ge=0,
        le=MAX_SEED,
        title="Seed",
        description="Fixes the split, the shuffling and the initial weights so runs repeat.",
    )
    num_workers: Annotated[int, Field(ge=0, le=MAX_WORKERS)] | Literal["auto"] = Field(
        "auto",
        title="Loader workers",
        description="Processes that decode images in parallel; 'auto' picks for this machine. "
        "More than the machine can run is lowered (one core is left for the window).",
    )
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto",
        title="Device",
        description="Where to train: 'auto' uses a GPU when there is one.",
    )
    optimizer: Literal["adamw", "adam", "sgd"] = Field(
        "adamw",
        title="Optimizer",
        description="How weights are updated. AdamW is a safe default; SGD with momentum can "
        "generalise slightly better but needs a tuned learning rate (try 10x higher).",
    )
    weight_decay: float = Field(
        1e-4,
        ge=0.0,
        le=1.0,
        title="Weight decay",
        description="Pulls weights towards zero to fight overfitting. 1e-4 is typical; try "
        "1e-3 to 1e-2 if the model overfits.",
    )
    schedule: Literal["constant", "cosine", "onecycle", "step", "plateau"] = Field(
        "cosine",
        title="LR schedule",
        description="How the learning rate changes over training. Cosine (after a short "
        "warm-up) is a strong default; plateau lowers it when validation loss stalls.",
    )
    warmup_epochs: float = Field(
        0.5,
        ge=0.0,
        le=100.0,
        title="Warm-up epochs",
        description="Epochs over which the learning rate ramps up from zero (cosine), so the "
        "new head does not shake the pre-trained weights at the start.",
    )
    step_every: int = Field(
        10,
        ge=1,
        le=1000,
        title="Step every (epochs)",
        description="With the step schedule: divide the learning rate by 10 this often.",
    )
    label_smoothing: float = Field(
        0.0,
        ge=0.0,
        le=0.5,
        title="Label smoothing",
        description="Trains towards 90% instead of 100% certainty (0.1), which makes the model "
        "less over-confident. 0 turns it off; 0.1 is typical.",
    )
    mixed_precision: Literal["auto", "off"] = Field(
        "auto",
        title="Mixed precision",
        description="On a GPU, compute in 16-bit where safe: about twice as fast and half the "
        "memory. 'auto' uses it on CUDA GPUs only.",
    )
    feature_cache: bool = Field(
        True,
        title="Cache features",
        description="Linear probe without augmentation: compute the frozen backbone's output "
        "once and train the head on it, many times faster after the first epoch.",
    )
    class_weighting: Literal["none", "loss", "sampler"] = Field(
        "none",
        title="Class weighting",
        description="For unbalanced classes: 'loss' counts mistakes on rare classes more, "
        "'sampler' shows rare classes more often. Leave 'none' when classes are balanced.",
    )
    early_stopping: bool = Field(
        False,
        title="Early stopping",
        description="Stop when validation accuracy has not improved for a while. The best "
        "epoch's weights are kept either way.",
    )
    early_stopping_patience: int = Field(
        5,
        ge=1,
        le=100,
        title="Patience",
        description="Epochs without improvement of the early-stopping metric before it stops.",
    )
    early_stopping_metric: Literal["val_acc", "val_loss"] = Field(
        "val_acc",
        title="Early-stopping metric",
        description="What early stopping watches (and what picks the best epoch): validation "
        "accuracy, or validation loss.",
    )
    log_tensorboard: bool = Field(
        False,
        title="Log to TensorBoard",
        description="Also write the metrics, settings and best model to TensorBoard event "
        "files in the run folder (needs the tracking extra: pip install 'studio[tracking]').",
    )
    log_mlflow: bool = Field(
        False,
        title="Log to MLflow",
        description="Also record the run in MLflow: a local mlflow.db beside the run folders, "
        "no server needed (needs the tracking extra: pip install 'studio[tracking]').",
    )


class CoachConfig(_Section):
    """When the overfitting coach speaks up."""

    patience: int = Field(
        3,
        ge=1,
        le=50,
        title="Coach patience",
        description="Epochs a bad trend must last before the coach warns, so one noisy epoch "
        "never raises an alarm.",
    )
    gap_threshold: float = Field(
        0.15,
        ge=0.01,
        le=1.0,
        title="Accuracy gap",
        description="Warn when training accuracy leads validation accuracy by more than this "
        "(0.15 = 15 points) and the gap keeps widening.",
    )
    min_delta: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        title="Minimum change",
        description="Relative rise of validation loss above its best that counts as real.",
    )
    smoothing: float = Field(
        0.3,
        ge=0.0,
        lt=1.0,
        title="Smoothing",
        description="How much each smoothed point keeps of the previous ones (0 = none).",
    )


class ProjectConfig(_Section):
    """Everything a run needs; saved beside every run as ``config.json``."""

    schema_version: int = Field(SCHEMA_VERSION, ge=0, le=SCHEMA_VERSION)
    data: DataConfig = Field(default_factory=DataConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    coach: CoachConfig = Field(default_factory=CoachConfig)
    user_set: list[str] = Field(
        default_factory=list,
        title="Set by you",
        description="The settings the user chose, as SECTION.FIELD names. Studio derives the "
        "others (from the model, the data and the machine) and never overrides these.",
    )

    @field_validator("user_set")
    @classmethod
    def _known_settings(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in SETTINGS]
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r} (e.g. train.image_size)")
        return sorted(set(names))


# the dataset itself (folders and the edits made to it) is not a setting anyone derives
_NOT_SETTINGS = {"sources", "excluded_files", "excluded_classes", "class_names"}
SECTIONS: dict[str, type[BaseModel]] = {
    "data": DataConfig,
    "augment": AugmentConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "coach": CoachConfig,
}
SETTINGS: frozenset[str] = frozenset(
    f"{section}.{name}"
    for section, model in SECTIONS.items()
    for name in model.model_fields
    if not (section == "data" and name in _NOT_SETTINGS)
)
