"""Typed, validated settings shared by the GUI and the CLI. Imports nothing else from Studio."""

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
