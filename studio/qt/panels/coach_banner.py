"""The overfitting banner: what the coach sees now, in plain words, with one-click remedies.

It lists every active signal (a withdrawn one disappears), offers only the remedies that fit
the signals and the run's state, and never undoes the label-safety rules.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.config import AugmentConfig
from studio.qt.project_model import ProjectModel

TITLES = {
    "val_loss_rising": "Overfitting: validation loss is rising",
    "accuracy_gap": "Overfitting: training and validation accuracy are drifting apart",
    "val_plateau": "Overfitting: validation accuracy stopped improving",
    "underfitting": "Underfitting: the model is not learning enough",
    "lr_too_high": "Unstable training: the learning rate looks too high",
    "small_validation": "Too few validation images to judge the curves",
}
OVERFIT = {"val_loss_rising", "accuracy_gap", "val_plateau"}
STRONGER = ["none", "light", "medium", "heavy"]


class CoachBanner(QFrame):
    """Shows the active diagnoses (``objectName`` ``overfittingBanner``).

    Each remedy button edits the project config for the *next* run and says so;
    ``stop_requested()`` asks the window to stop the running training.
    """

    stop_requested = Signal()

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("overfittingBanner")
        self.setAccessibleName("Overfitting warning")
        self.active: dict[str, object] = {}  # signal -> its overfitting_detected/warning event
        self.training = False
        self.stopped_early = False
        self.title = QLabel()
        self.title.setObjectName("bannerTitle")
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setObjectName("bannerDetail")
        self.outcome = QLabel()
        self.outcome.setObjectName("bannerOutcome")
        self.outcome.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, tip in (
            (
                "stop",
                "Stop now, keep best epoch",
                "Stop training; the best epoch's weights are what the run keeps and exports.",
            ),
            (
                "early_stopping",
                "Turn on early stopping",
                "Next runs stop by themselves when validation stops improving.",
            ),
            (
                "augment",
                "Stronger augmentation",
                "More varied training images make memorising harder.",
            ),
            ("dropout", "More dropout", "Randomly drop more features while training."),
            (
                "freeze",
                "Fewer trainable layers",
                "Let fewer pre-trained layers change: less capacity to memorise.",
            ),
            ("data", "Collect more data", "More real images is the surest cure."),
            ("lower_lr", "Lower the learning rate", "Divide the learning rate by 3."),
            ("longer", "Train longer", "Double the number of epochs."),
        ):
            button = QPushButton(text)
            button.setObjectName(f"remedy_{key}")
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, key=key: self.apply(key))
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addLayout(row)
        layout.addWidget(self.outcome)
        self.hide()
        model.project_changed.connect(self.clear)  # its advice was about the last project
        model.dataset_changed.connect(lambda _index: self.clear())

    @property
    def signal(self) -> str | None:
        """The most recent active signal."""
        return next(reversed(self.active), None)

    def reset(self) -> None:
        """A new run (or project): nothing said yet."""
        self.active.clear()
        self.training = True
        self.stopped_early = False
        self.outcome.clear()
        self.hide()

    def clear(self) -> None:
        """Another project or dataset: the advice about the last one goes."""
        self.reset()
        self.training = False

    def show_diagnosis(self, event, training: bool) -> None:
        """Add an ``overfitting_detected`` or ``training_warning`` event to the list."""
        self.training = training
        self.active.pop(event.signal, None)
        self.active[event.signal] = event
        self.outcome.clear()
        self._render()

    def clear_signal(self, event) -> None:
        """An ``overfitting_cleared`` event: later epochs contradicted that alarm."""
        if self.active.pop(event.signal, None) is None:
            return
        self.outcome.setText(f"✓  {event.detail}")
        self._render()

    def _render(self) -> None:
        if not self.active:
            self.hide()
            return
        events = list(self.active.values())

        def line(e) -> str:
            return f"{TITLES.get(e.signal, 'Training needs attention')} (since epoch {e.began})"

        if len(events) == 1:
            self.title.setText(f"⚠  {line(events[0])}")
            self.detail.setText(events[0].detail)
        else:
            self.title.setText(f"⚠  {len(events)} things need attention")
            self.detail.setText("\n".join(f"• {line(e)}: {e.detail}" for e in events))
        signals = set(self.active)
        overfit = bool(signals & OVERFIT)
        visible = {
            "stop": self.training and bool(signals - {"underfitting", "small_validation"}),
            "early_stopping": overfit and not self.model.config.train.early_stopping,
            "augment": overfit,
            "dropout": overfit,
            "freeze": overfit and self._can_freeze(),
            "data": overfit or "small_validation" in signals,
            "lower_lr": "lr_too_high" in signals,
            "longer": "underfitting" in signals and not self.stopped_early,
        }
        for key, button in self.buttons.items():
            button.setVisible(visible[key])
            button.setEnabled(True)
        self.show()

    def training_ended(self, stopped_early: bool = False) -> None:
        self.training = False
        self.stopped_early = stopped_early
        self.buttons["stop"].hide()
        if stopped_early:
            self.buttons["longer"].hide()

    def apply(self, key: str) -> None:
        """Carry out one remedy and say what changed."""
        cfg = self.model.config
        if key == "stop":
            self.stop_requested.emit()
            text = "Stopping: the run keeps its best epoch."
        elif key == "early_stopping":
            self.model.update("train", early_stopping=True)
            text = (
                f"Early stopping is on for the next run: it stops after "
                f"{cfg.train.early_stopping_patience} epochs without improvement."
            )
        elif key == "augment":
            text = self._stronger_augmentation()
        elif key == "dropout":
            dropout = round(min(0.7, cfg.model.dropout + 0.2), 2)
            self.model.update("model", dropout=dropout)
            text = f"Dropout is {dropout:.0%} for the next run."
        elif key == "data":
            counts = self.model.index.counts if self.model.index is not None else {}
            listing = ", ".join(f"{name}: {n}" for name, n in counts.items())
            text = (
                f"Images per class now: {listing}. A few hundred varied images per class "
                f"is a good target; start with the smallest classes."
            )
        elif key == "freeze":
            text = self._freeze_more()
        elif key == "lower_lr":
            lr = cfg.train.learning_rate / 3
            self.model.update("train", learning_rate=lr)
            text = f"Learning rate is {lr:.2g} for the next run."
        else:
            self.model.update("train", epochs=min(1000, cfg.train.epochs * 2))
            text = f"The next run trains for {cfg.train.epochs} epochs."
        if key not in {"data", "stop"}:
            self.buttons[key].setEnabled(False)
        self.outcome.setText(text)

    def _can_freeze(self) -> bool:
        model = self.model.config.model
        return model.weights != "none" and model.strategy in ("full", "partial")

    def _freeze_more(self) -> str:
        """full -> partial (last 2 stages) -> fewer stages -> linear probe."""
        model = self.model.config.model
        if model.strategy == "full":
            self.model.update("model", strategy="partial", unfreeze=2)
            return "Fine-tuning is 'partial' (the last 2 stages learn) for the next run."
        if model.strategy == "partial" and model.unfreeze > 1:
            self.model.update("model", unfreeze=model.unfreeze - 1)
            return f"Only the last {model.unfreeze} stage(s) learn in the next run."
        if model.strategy == "partial":
            self.model.update("model", strategy="linear")
            return "The next run is a linear probe: only the new head learns."
        return "Already training the head only."

    def _stronger_augmentation(self) -> str:
        """The next preset up, keeping off every step that is off now or that the
        label-safety check warns about (flips stay off for digits and text)."""
        from studio.engine.augment.advice import augmentation_warnings

        cfg = self.model.config.augment
        current = cfg.preset
        if current in STRONGER:
            stronger = STRONGER[STRONGER.index(current) + 1 :]
        else:  # custom or documents: a step up from light
            stronger = ["medium", "heavy"]
        if not stronger:
            return "Augmentation is already at its strongest preset."
        preset = AugmentConfig.from_preset(stronger[0])
        was = AugmentConfig.from_preset(current) if current in STRONGER else None
        kept_off = {
            name
            for name, step in cfg.steps()
            if not step.enabled and was is not None and getattr(was, name).enabled
        }
        classes = list(self.model.index.classes) if self.model.index is not None else []
        unsafe = {a.step for a in augmentation_warnings(preset, classes)}
        values = dict(preset)
        for name in kept_off | unsafe:
            if name in values:
                values[name] = {**getattr(preset, name).model_dump(), "enabled": False}
        self.model.update("augment", **values)
        text = f"Augmentation preset is '{stronger[0]}' for the next run."
        if kept_off | unsafe:
            names = ", ".join(sorted(n.replace("_", " ") for n in kept_off | unsafe))
            text += f" Kept off, as the label-safety check asks: {names}."
        return text
