"""Typed, validated settings shared by the GUI and the CLI. Besides the layer-neutral
``studio.errors`` and ``studio.fileio`` it imports nothing else from Studio."""

from studio.config.schema import (
    SCHEMA_VERSION,
    AugmentConfig,
    CoachConfig,
    DataConfig,
    ModelConfig,
    ProjectConfig,
    TrainConfig,
)

__all__ = [
    "SCHEMA_VERSION",
    "AugmentConfig",
    "CoachConfig",
    "DataConfig",
    "ModelConfig",
    "ProjectConfig",
    "TrainConfig",
]
