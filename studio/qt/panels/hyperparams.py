"""The hyperparameter dock: every training knob, generated from the typed config.

Names, ranges and rule-of-thumb tooltips come from :mod:`studio.config.schema`; object names
are the field names in camelCase plus ``Input`` (``epochsInput``, ``learningRateInput``…).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.config import DataConfig, ModelConfig, TrainConfig
from studio.engine.training.resolve import RULES
from studio.qt.fit import frameless_scroll
from studio.qt.forms import field, input_for, on_change, set_value, tooltip
from studio.qt.later import deferred
from studio.qt.panels.resolved_settings import with_reason
from studio.qt.project_model import ProjectModel

SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Basics",
        [
            ("train", "epochs"),
            ("train", "batch_size"),
            ("train", "learning_rate"),
            ("train", "image_size"),
        ],
    ),
    ("Split", [("data", "val_fraction"), ("data", "test_fraction")]),
    (
        "Optimizer",
        [
            ("train", "optimizer"),
            ("train", "weight_decay"),
            ("train", "schedule"),
            ("train", "warmup_epochs"),
            ("train", "step_every"),
        ],
    ),
    (
        "Against overfitting",
        [
            ("model", "dropout"),
            ("train", "label_smoothing"),
            ("train", "early_stopping"),
            ("train", "early_stopping_patience"),
            ("train", "early_stopping_metric"),
            ("train", "class_weighting"),
        ],
    ),
    (
        "Advanced",
        [
            ("train", "mixed_precision"),
            ("train", "feature_cache"),
            ("train", "seed"),
            ("train", "num_workers"),
            ("train", "device"),
            ("train", "log_tensorboard"),
            ("train", "log_mlflow"),
        ],
    ),
]
SCHEMAS = {"train": TrainConfig, "model": ModelConfig, "data": DataConfig}
PRESETS: dict[str, dict[str, Any]] = {
    "Quick look": {
        "epochs": 3,
        "schedule": "constant",
        "label_smoothing": 0.0,
        "early_stopping": False,
        "weight_decay": 1e-4,
    },
    "Balanced": {  # the defaults
        name: TrainConfig.model_fields[name].default
        for name in (
            "epochs",
            "schedule",
            "warmup_epochs",
            "label_smoothing",
            "early_stopping",
            "weight_decay",
        )
    },
    "Best accuracy": {
        "epochs": 40,
        "schedule": "cosine",
        "warmup_epochs": 1.0,
        "label_smoothing": 0.1,
        "early_stopping": True,
        "early_stopping_patience": 6,
        "weight_decay": 1e-2,
    },
}
KEPT_ON_RESET = ("image_size", "device", "num_workers")  # follow the data and the machine
DERIVABLE = {rule.name for rule in RULES if not rule.auto}  # "auto" values need no button


def object_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest) + "Input"


class HyperparameterPanel(QWidget):
    """Edits ``config.train`` (and the dropout); follows the config when it changes elsewhere.

    ``lr_found(suggestion)`` fires on the GUI thread when the learning-rate finder is done.
    """

    lr_found = Signal(float)

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.inputs: dict[str, QWidget] = {}
        self.sections: dict[str, str] = {}  # field -> config section it edits
        self.derive_buttons: dict[str, QToolButton] = {}  # field -> "let Studio choose"
        self.finding = None
        self.lr_dialog = None  # the finder's plot window, made on its first result
        self.preset = QComboBox()
        self.preset.setObjectName("trainingPresetInput")
        self.preset.setAccessibleName("Training preset")
        self.preset.setToolTip(
            "Quick look: a few epochs to see if it learns at all. Balanced: "
            "a sound default. Best accuracy: longer, regularised, stops by "
            "itself."
        )
        self.preset.addItem("Custom")
        self.preset.addItems(list(PRESETS))
        self.preset.activated.connect(lambda _: self.apply_preset(self.preset.currentText()))
        reset = QPushButton("Reset")
        reset.setObjectName("resetSettingsButton")
        reset.setToolTip("Every training setting back to its default (image size kept).")
        reset.clicked.connect(self.reset_to_defaults)
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset, 1)
        top.addWidget(reset)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        for title, fields in SECTIONS:
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for section, name in fields:
                widget = input_for(SCHEMAS[section], name, object_name(name))
                on_change(widget, lambda value, s=section, n=name: self._edited(s, n, value))
                form.addRow(
                    field(SCHEMAS[section], name).title, self._with_derive(section, name, widget)
                )
                self.inputs[name] = widget
                self.sections[name] = section
                if name == "learning_rate":
                    form.addRow("", self._lr_finder_row())
            body_layout.addWidget(box)
        self.inputs["image_size"].setSuffix(" px")
        hint = QLabel(
            "Start simple: the defaults train well. Hover over a knob for its rule of thumb, "
            "and judge runs by <b>validation</b> accuracy."
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        body_layout.addWidget(hint)
        body_layout.addStretch(1)
        scroll = frameless_scroll(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        from studio.qt.panels.preflight import PreflightPanel

        self.preflight = PreflightPanel(model)
        layout.addWidget(self.preflight)
        layout.addWidget(scroll, 1)
        model.config_changed.connect(deferred(self.sync_from_model))
        model.machine_detected.connect(deferred(self.sync_from_model))
        self.sync_from_model()

    def _with_derive(self, section: str, name: str, widget: QWidget) -> QWidget:
        """A setting Studio can derive gets a button that hands it back to Studio."""
        if f"{section}.{name}" not in DERIVABLE:
            return widget
        button = QToolButton()
        button.setText("Auto")
        button.setObjectName(object_name(name).removesuffix("Input") + "AutoButton")
        button.setToolTip("Let Studio choose this value again (it follows the model).")
        button.clicked.connect(lambda: self.model.use_derived(f"{section}.{name}"))
        self.derive_buttons[name] = button
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        layout.addWidget(button)
        return row

    # -- edits --------------------------------------------------------------------------
    def _edited(self, section: str, name: str, value: Any) -> None:
        self.model.update(section, **{name: value})
        self.preset.setCurrentIndex(0)

    def apply_preset(self, name: str) -> None:
        if name in PRESETS:
            self.model.update("train", **PRESETS[name])
            self.preset.setCurrentText(name)

    def reset_to_defaults(self) -> None:
        defaults = TrainConfig()
        values = {
            k: getattr(defaults, k) for k in TrainConfig.model_fields if k not in KEPT_ON_RESET
        }
        self.model.update("train", derive=[f"train.{k}" for k in values], **values)
        self.model.update("model", derive=["model.dropout"], dropout=ModelConfig().dropout)
        self.preset.setCurrentIndex(0)

    def sync_from_model(self) -> None:
        cfg, resolution = self.model.config, self.model.resolution
        for name, widget in self.inputs.items():
            section = self.sections[name]
            set_value(widget, getattr(getattr(cfg, section), name))
            help_text = tooltip(field(SCHEMAS[section], name))
            widget.setToolTip(with_reason(help_text, resolution, f"{section}.{name}"))
        for name, button in self.derive_buttons.items():
            button.setVisible(f"{self.sections[name]}.{name}" in cfg.user_set)
        train = cfg.train
        self.inputs["warmup_epochs"].setEnabled(train.schedule == "cosine")
        self.inputs["step_every"].setEnabled(train.schedule == "step")
        for name in ("early_stopping_patience", "early_stopping_metric"):
            self.inputs[name].setEnabled(train.early_stopping)

    # -- learning-rate finder -----------------------------------------------------------
    def _lr_finder_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        self.find_button = QPushButton("Find learning rate")
        self.find_button.setObjectName("findLrButton")
        self.find_button.setToolTip(
            "A range test: trains a throw-away copy for ~100 steps with "
            "a rising learning rate and suggests where the loss falls "
            "fastest. Needs images."
        )
        self.find_button.clicked.connect(self.find_learning_rate)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("applyLrButton")
        self.apply_button.hide()
        self.apply_button.clicked.connect(self._apply_suggestion)
        self.show_plot_button = QPushButton("Plot")
        self.show_plot_button.setObjectName("showLrPlotButton")
        self.show_plot_button.setToolTip("Show the loss against the learning rate again.")
        self.show_plot_button.hide()
        self.show_plot_button.clicked.connect(lambda: self.lr_dialog and self.lr_dialog.show())
        layout.addWidget(self.find_button)
        layout.addWidget(self.apply_button)
        layout.addWidget(self.show_plot_button)
        wrapper = QWidget()
        outer = QVBoxLayout(wrapper)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(row)
        self.lr_note = QLabel()
        self.lr_note.setObjectName("hint")
        self.lr_note.setWordWrap(True)
        outer.addWidget(self.lr_note)
        return wrapper

    def find_learning_rate(self) -> None:
        """Run the range test in the background; the result is plotted and can be applied."""
        if not self.model.has_data:
            self.lr_note.setText("Add images first: the finder trains on them.")
            return
        from studio.engine.control import StopToken

        config = self.model.config.model_copy(deep=True)
        token = StopToken()
        self.find_button.setEnabled(False)
        self.lr_note.setText("Sweeping the learning rate…")

        task = self.model.tasks.track("Finding a learning rate", token.stop)

        def sweep():
            from studio.engine.training.lr_finder import find_lr

            return find_lr(config, token, task.sink)

        self.model.tasks.start(sweep, self._found, self._finder_failed, token.stop, task=task)

    def _found(self, finding) -> None:
        self.finding = finding
        self.find_button.setEnabled(True)
        self._plot(finding)
        self.apply_button.setText(f"Apply {finding.suggestion:.1e}")
        self.apply_button.show()
        self.lr_note.setText(
            f"Suggested: {finding.suggestion:.1e}, where the loss falls fastest. The loss "
            f"curve should be falling there; pick lower for fine-tuning pre-trained models."
        )
        self.lr_found.emit(finding.suggestion)

    def _finder_failed(self, exc: Exception) -> None:
        self.find_button.setEnabled(True)
        self.lr_note.setText(f"The learning-rate finder failed: {exc}")

    def _apply_suggestion(self) -> None:
        if self.finding is not None:
            self.model.update("train", learning_rate=float(f"{self.finding.suggestion:.2g}"))

    def _plot(self, finding) -> None:
        """The finding in its own window (the dock keeps the Apply button and a summary)."""
        from studio.qt.panels.lr_finder_view import LrFinderDialog

        if self.lr_dialog is None:
            self.lr_dialog = LrFinderDialog(self)
            self.lr_dialog.apply_requested.connect(self._apply_suggestion)
        self.lr_dialog.show_finding(finding)
        self.show_plot_button.show()
