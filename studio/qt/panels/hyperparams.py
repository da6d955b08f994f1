"""The hyperparameter dock: the training knobs, generated from the typed config."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from studio.config import TrainConfig
from studio.qt.forms import field, spin_box
from studio.qt.project_model import ProjectModel

# config field -> stable objectName that tests and automation rely on
INPUTS = {
    "epochs": "epochsInput",
    "batch_size": "batchSizeInput",
    "learning_rate": "learningRateInput",
    "image_size": "imageSizeInput",
}


class HyperparameterPanel(QWidget):
    """Edits ``config.train``; follows the model when the config changes elsewhere."""

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.inputs = {}
        for name, object_name in INPUTS.items():
            box = spin_box(TrainConfig, name, object_name)
            box.valueChanged.connect(lambda value, name=name: self._edited(name, value))
            form.addRow(QLabel(field(TrainConfig, name).title), box)
            self.inputs[name] = box
        self.inputs["image_size"].setSuffix(" px")
        hint = QLabel(
            "Start simple: the defaults train well. Hover over a knob for its rule of thumb, "
            "and judge runs by <b>validation</b> accuracy."
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addStretch(1)
        model.config_changed.connect(self.sync_from_model)
        self.sync_from_model()

    def _edited(self, name: str, value: float) -> None:
        self.model.update("train", **{name: value})

    def sync_from_model(self) -> None:
        train = self.model.config.train
        for name, box in self.inputs.items():
            value = getattr(train, name)
            if box.value() != value:
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
