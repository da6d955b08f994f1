"""One split for the whole window: the augmentation panel's training batch is the batch the
trainer takes first, and the health tab's split summary is the run's split.json."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from conftest import TRAIN_TIMEOUT, drop_folders, set_knobs, settle
from PySide6.QtWidgets import QComboBox, QPushButton
from torch.utils.data import WeightedRandomSampler

from studio.engine.training import steps
from studio.qt.later import queue

TIMEOUT = 30_000


def test_training_batch_is_the_trainers_first_batch_and_the_split_is_the_runs(
    qtbot, window, dataset: Path, monkeypatch
):
    browser, panel = window.browser, window.augment
    with qtbot.waitSignal(browser.check.finished, timeout=TIMEOUT):
        drop_folders(qtbot, window, [dataset])
    set_knobs(window, epochs=1, image_size=24, batch_size=8)
    weighting = window.findChild(QComboBox, "classWeightingInput")
    weighting.setCurrentIndex(weighting.findData("sampler"))
    weighting.activated.emit(weighting.currentIndex())
    left_out = dataset / "cats" / "cats_03.png"
    with qtbot.waitSignal(browser.check.split_ready, timeout=TIMEOUT):
        browser.set_images_excluded([left_out], True)
        browser.set_class_excluded("birds", True)
        browser.rename_class("dogs", "puppies")
    status = browser.report.status.text()
    dogs_tip = browser.tree.topLevelItem(2).toolTip(1)

    qtbot.waitUntil(lambda: queue().idle and not window.model.tasks.busy, timeout=TIMEOUT)
    with qtbot.waitSignal(panel.preview_updated, timeout=TIMEOUT):
        window.findChild(QPushButton, "showTrainingBatchButton").click()
    shown = panel.batch
    assert len(shown.paths) == 8 and left_out not in shown.paths
    assert not any(p.parent.name == "birds" for p in shown.paths)
    assert "puppies" in {tile.toolTip().split(" · ")[0] for tile in panel.tiles[:8]}

    taken = []
    step = steps.train_step

    def first_step(run, images, targets):
        if not taken:
            drawn = run.train_loader.sampler.drawn[: len(targets)]
            sampler = run.train_loader.sampler.sampler
            taken.append(([run.train_ds.paths[i] for i, _ in drawn], images, targets, sampler))
        return step(run, images, targets)

    monkeypatch.setattr(steps, "train_step", first_step)
    with qtbot.waitSignal(window.controller.run_finished, timeout=TRAIN_TIMEOUT):
        window.findChild(QPushButton, "trainButton").click()
    settle(qtbot)  # the window shows the run's end
    paths, images, targets, sampler = taken[0]
    assert isinstance(sampler, WeightedRandomSampler)  # the class-weighted sampler drew them
    assert paths == shown.paths  # the same files in the same order
    assert torch.equal(images, shown.images) and torch.equal(targets, shown.targets)

    split = json.loads((window.last_run_dir / "split.json").read_text())
    counts = split["counts"]
    assert sorted(counts) == ["cats", "puppies"] and str(left_out) not in str(split["files"])
    totals = {k: sum(c[k] for c in counts.values()) for k in ("train", "val", "test")}
    assert f"Split: train {totals['train']} · val {totals['val']} · test 0" in status
    assert dogs_tip == "puppies: " + " · ".join(
        f"{k} {counts['puppies'][k]}" for k in ("train", "val", "test")
    )
