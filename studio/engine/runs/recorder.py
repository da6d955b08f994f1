"""An event sink that records a training run into the run history, so the trainer records
runs without knowing of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.engine.events import CoachVerdict, EpochEnded, Event, RunFinished, RunStarted
from studio.engine.runs import files
from studio.engine.runs.database import METRICS
from studio.engine.runs.store import RunStore


class RunRecorder:
    """An event sink that records one training run into a :class:`RunStore`.

    :meth:`begin` opens the run before set-up (so a run stopped or killed while it loads is
    listed too); otherwise ``run_started`` opens it. ``run_started`` adds the split (from the
    ``split.json`` the trainer wrote), each ``epoch_ended`` a row, ``coach_verdict`` the
    coach's verdict, ``run_finished`` closes it."""

    def __init__(
        self, store: RunStore, config: dict[str, Any], run_dir: Path | None, name: str = ""
    ) -> None:
        self.store = store
        self.config = config
        self.run_dir = Path(run_dir) if run_dir else None
        self.name = name
        self.run_id: int | None = None

    def begin(self, model: str = "", resume: bool = False) -> int:
        """Open the run now as ``running`` (``resume``: reopen the one kept in ``run_dir``)."""
        if resume and self.run_dir is not None:
            self.run_id = self.store.reopen_run(self.run_dir)
        if self.run_id is None:
            self.run_id = self.store.create_run(
                self.config, self.run_dir or "", self.name, model=model
            )
        return self.run_id

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            if self.run_id is None:
                self.begin(event.model, resume=event.start_epoch > 1)
            split = {
                "classes": list(event.classes),
                "train_images": event.train_images,
                "val_images": event.val_images,
                "test_images": event.test_images,
                "skipped_images": event.skipped_images,
                "counts": self._split_counts(),
            }
            self.store.set_started(self.run_id, event.model, event.device, split)
        elif isinstance(event, EpochEnded) and self.run_id is not None:
            metrics = {k: float(getattr(event, k)) for k in METRICS}
            self.store.add_epoch(self.run_id, event.epoch, metrics, event.best_epoch)
        elif isinstance(event, CoachVerdict) and self.run_id is not None:
            self.store.set_verdict(self.run_id, event.text)
        elif isinstance(event, RunFinished) and self.run_id is not None:
            self.store.finish_run(self.run_id, event.status, event.message, self._artifacts())

    def _split_counts(self) -> dict[str, Any]:
        if self.run_dir is None or not (self.run_dir / files.SPLIT).is_file():
            return {}
        try:
            return json.loads((self.run_dir / files.SPLIT).read_text("utf-8")).get("counts", {})
        except (OSError, ValueError):
            return {}

    def _artifacts(self) -> dict[str, str]:
        if self.run_dir is None:
            return {}
        found = {n: str(self.run_dir / n) for n in files.RUN_FILES if (self.run_dir / n).is_file()}
        exports = self.run_dir / "exports"
        if exports.is_dir():
            found.update({f"exports/{p.name}": str(p) for p in sorted(exports.iterdir())})
        return found
