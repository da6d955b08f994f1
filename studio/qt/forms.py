"""Build input widgets from the typed config, so titles, ranges and help text live once.

:func:`input_for` picks the widget from the field's type: a spin box for numbers (with the
field's range), a check box for booleans, a combo box for a fixed set of choices.
:func:`value_of`, :func:`set_value` and :func:`on_change` hide the differences.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QSpinBox,
    QWidget,
)

from studio.config.errors import field_bounds as bounds
from studio.qt.glossary import FIELD_TERMS, TERMS

AUTO = -1  # the spin-box value shown as "auto" for ``int | Literal["auto"]`` fields
SPIN_MAX = 2**31 - 1  # a QSpinBox holds a 32-bit int
_GLOSSARY: dict[int, str] = {}  # id(FieldInfo) -> its glossary entry, filled by field()


def field(section: type[BaseModel], name: str) -> FieldInfo:
    info = section.model_fields[name]
    augment_step = section.__module__ == "studio.config.augment"
    term = "augmentation" if augment_step else FIELD_TERMS.get(name)
    if term:
        _GLOSSARY[id(info)] = term
    return info


def tooltip(info: FieldInfo) -> str:
    """Title, plain-words help and a link to the glossary entry (F1 opens it)."""
    text = f"<b>{info.title}</b><br>{info.description}"
    term = _GLOSSARY.get(id(info))
    if term:
        text += f'<br><a href="glossary:{term}">{TERMS[term].title}</a> in the glossary: press F1'
    return text


def number_input(section: type[BaseModel], name: str, object_name: str) -> QAbstractSpinBox:
    """A spin box for one numeric field: its range, a step that suits the range, a tooltip."""
    info = field(section, name)
    low, high = bounds(info)
    low = 0 if low is None else low
    high = 100 if high is None else high
    if info.annotation is int:
        box: QAbstractSpinBox = QSpinBox()
        box.setRange(int(low), min(int(high), SPIN_MAX))
    else:
        box = QDoubleSpinBox()
        if isinstance(info.default, float) and 0 < info.default < 0.01:  # rates and decays
            box.setDecimals(6)
            box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            low = max(low, 1e-6) if _exclusive_low(info) else low
        else:
            wide = high - low >= 90
            box.setDecimals(0 if wide else 2)
            box.setSingleStep(5.0 if wide else 0.05 if high - low > 0.4 else 0.01)
        box.setRange(float(low), float(high))
    _describe(box, info, name, object_name)
    box.setKeyboardTracking(False)  # one edit per value, not per keystroke
    return box


def input_for(section: type[BaseModel], name: str, object_name: str) -> QWidget:
    """The right widget for any field of ``section``."""
    info = field(section, name)
    choices = _choices(info.annotation)
    if info.annotation is bool:
        widget: QWidget = QCheckBox()
    elif choices and all(isinstance(c, str) for c in choices):
        widget = QComboBox()
        for choice in choices:
            widget.addItem(choice.replace("_", " "), choice)
    elif choices:  # int | Literal["auto"]
        widget = QSpinBox()
        high = bounds(info)[1]
        widget.setRange(AUTO, int(high) if high is not None else 64)
        widget.setSpecialValueText("auto")
    else:
        return number_input(section, name, object_name)
    _describe(widget, info, name, object_name)
    return widget


def value_of(widget: QWidget) -> Any:
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QSpinBox) and widget.specialValueText() == "auto":
        return "auto" if widget.value() == AUTO else widget.value()
    return widget.value()


def set_value(widget: QWidget, value: Any) -> None:
    """Show ``value`` without emitting a change."""
    widget.blockSignals(True)
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentIndex(widget.findData(value))
    elif isinstance(widget, QSpinBox) and widget.specialValueText() == "auto":
        widget.setValue(AUTO if value == "auto" else int(value))
    else:
        widget.setValue(value)
    widget.blockSignals(False)


def on_change(widget: QWidget, callback: Callable[[Any], None]) -> None:
    """Call ``callback(value)`` whenever the user changes ``widget``."""
    if isinstance(widget, QCheckBox):
        widget.toggled.connect(lambda _: callback(value_of(widget)))
    elif isinstance(widget, QComboBox):
        widget.activated.connect(lambda _: callback(value_of(widget)))
    else:
        widget.valueChanged.connect(lambda _: callback(value_of(widget)))


def _describe(widget: QWidget, info: FieldInfo, name: str, object_name: str) -> None:
    widget.setObjectName(object_name)
    widget.setAccessibleName(info.title or name)
    widget.setToolTip(tooltip(info))


def _choices(annotation: Any) -> list[Any]:
    """The values of a ``Literal`` (also inside ``X | Literal[...]``)."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    found: list[Any] = []
    for arg in typing.get_args(annotation):
        found += _choices(arg)
    return found


def _exclusive_low(info: FieldInfo) -> bool:
    return any(getattr(rule, "gt", None) is not None for rule in info.metadata)
