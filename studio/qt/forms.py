"""Build input widgets from the typed config, so titles, ranges and help text live once."""

from __future__ import annotations

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox, QWidget


def field(section: type[BaseModel], name: str) -> FieldInfo:
    return section.model_fields[name]


def bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """The (low, high) limits declared with ``ge``/``gt``/``le``/``lt`` on a field."""
    low = high = None
    for rule in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(rule, attr, None) is not None:
                low = getattr(rule, attr)
        for attr in ("le", "lt"):
            if getattr(rule, attr, None) is not None:
                high = getattr(rule, attr)
    return low, high


def tooltip(info: FieldInfo) -> str:
    return f"<b>{info.title}</b><br>{info.description}"


def spin_box(section: type[BaseModel], name: str, object_name: str) -> QWidget:
    """A spin box for an int or float field with its range, tooltip and accessible name."""
    info = field(section, name)
    low, high = bounds(info)
    if info.annotation is int:
        box: QAbstractSpinBox = QSpinBox()
        box.setRange(int(low if low is not None else 0), int(high if high is not None else 10**6))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(6)
        box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        box.setRange(max(low or 0.0, 1e-6), high or 1e6)
    box.setObjectName(object_name)
    box.setAccessibleName(info.title or name)
    box.setToolTip(tooltip(info))
    box.setValue(info.default)
    return box
