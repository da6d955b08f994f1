"""The pipeline editor, generated from the AugmentConfig schema: one row per augmentation.

Each row has an on/off switch, a probability and the step's magnitude fields, all with the
schema's ranges and descriptions as tooltips, plus a warning line that teaching warnings fill.
Object names: ``<step>Enabled``, ``<step>Probability``, ``<step>_<field>Input``,
``<step>Warning``, ``<step>Reason`` (what Studio changed for this data, and why) and
``<step>AutoButton`` (hand a step the user set back to Studio); ``step`` as in the config,
e.g. ``rotate``, ``horizontal_flip``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QFrame,
    QGridLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.config import AugmentConfig
from studio.config.augment import STEP_TYPES
from studio.qt.forms import field, number_input


class PipelineEditor(QWidget):
    """Edits the steps of an AugmentConfig; emits ``edited(step, {field: value})`` and
    ``derive(step)`` when the user hands a step back to Studio."""

    edited = Signal(str, dict)
    derive = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.switches: dict[str, QCheckBox] = {}
        self.inputs: dict[str, dict[str, QAbstractSpinBox]] = {}
        self.warnings: dict[str, QLabel] = {}
        self.reasons: dict[str, QLabel] = {}
        self.auto_buttons: dict[str, QToolButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for step, step_type in STEP_TYPES.items():
            layout.addWidget(self._row(step, step_type))
        layout.addStretch(1)

    def _row(self, step: str, step_type: type[BaseModel]) -> QWidget:
        info = field(AugmentConfig, step)
        frame = QFrame()
        frame.setObjectName(f"{step}Row")
        grid = QGridLayout(frame)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setHorizontalSpacing(6)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(1)
        switch = QCheckBox((info.title or step).replace("&", "&&"))  # "&" is no shortcut
        switch.setObjectName(f"{step}Enabled")
        switch.setAccessibleName(f"{info.title} on")
        switch.setToolTip(f"<b>{info.title}</b><br>{info.description}")
        switch.toggled.connect(lambda on, step=step: self.edited.emit(step, {"enabled": on}))
        grid.addWidget(switch, 0, 0)
        self.switches[step] = switch
        self.inputs[step] = {}
        magnitudes = []
        for name in step_type.model_fields:
            if name == "enabled":
                continue
            object_name = f"{step}Probability" if name == "p" else f"{step}_{name}Input"
            box = number_input(step_type, name, object_name)
            box.valueChanged.connect(
                lambda value, step=step, name=name: self.edited.emit(step, {name: value})
            )
            self.inputs[step][name] = box
            if name == "p":
                box.setPrefix("p = ")
                grid.addWidget(box, 0, 1)
            else:
                magnitudes.append((name, box))
        for row, (name, box) in enumerate(magnitudes, start=1):  # one label/box per line
            label = QLabel(step_type.model_fields[name].title or name)
            label.setObjectName(f"{step}_{name}Label")
            label.setToolTip(box.toolTip())
            grid.addWidget(label, row, 0)
            grid.addWidget(box, row, 1)
        warning = QLabel()
        warning.setObjectName(f"{step}Warning")
        warning.setAccessibleName(f"{info.title} warning")
        warning.setProperty("warning", True)
        warning.setWordWrap(True)
        warning.hide()
        grid.addWidget(warning, len(magnitudes) + 1, 0, 1, 2)
        self.warnings[step] = warning
        reason = QLabel()
        reason.setObjectName(f"{step}Reason")
        reason.setAccessibleName(f"{info.title}: what Studio chose")
        reason.setWordWrap(True)
        reason.setStyleSheet("color: #2a6fb0;")
        reason.hide()
        grid.addWidget(reason, len(magnitudes) + 2, 0, 1, 2)
        self.reasons[step] = reason
        auto = QToolButton()
        auto.setText("Auto")
        auto.setObjectName(f"{step}AutoButton")
        auto.setToolTip("Let Studio choose this step again (it follows your classes).")
        auto.clicked.connect(lambda _=False, step=step: self.derive.emit(step))
        auto.hide()
        grid.addWidget(auto, 0, 2)
        self.auto_buttons[step] = auto
        return frame

    def set_config(self, cfg: AugmentConfig) -> None:
        """Show ``cfg`` without emitting ``edited``."""
        for step, _ in cfg.steps():
            values = getattr(cfg, step)
            switch = self.switches[step]
            switch.blockSignals(True)
            switch.setChecked(values.enabled)
            switch.blockSignals(False)
            for name, box in self.inputs[step].items():
                value: Any = getattr(values, name)
                if box.value() != value:
                    box.blockSignals(True)
                    box.setValue(value)
                    box.blockSignals(False)
                box.setEnabled(values.enabled)

    def set_reasons(self, reasons: dict[str, str], mine: set[str]) -> None:
        """Show what Studio changed in a step and why (``reasons``), and an Auto button on
        the steps the user set (``mine``) that Studio would otherwise decide."""
        for step, label in self.reasons.items():
            text = reasons.get(step, "")
            label.setText(f"Studio: {text} Change it to use your own value." if text else "")
            label.setVisible(bool(text))
        for step, button in self.auto_buttons.items():
            button.setVisible(step in mine)

    def set_warnings(self, advice: list[Any]) -> None:
        """Show each warning under its step's controls; hide the others."""
        texts: dict[str, list[str]] = {}
        for item in advice:
            texts.setdefault(item.step, []).append(item.text)
        for step, label in self.warnings.items():
            text = " ".join(texts.get(step, []))
            label.setText(f"⚠ {text}" if text else "")
            label.setVisible(bool(text))
