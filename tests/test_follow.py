"""Following a run another process writes: the tail of ``events.jsonl`` and the stop request."""

from __future__ import annotations

import json
from pathlib import Path

from studio.engine.events import (
    BatchEnded,
    EpochEnded,
    Event,
    RunFinished,
    RunStarted,
    RunStatus,
)
from studio.engine.runs import files
from studio.engine.runs.eventlog import read_events
from studio.engine.runs.follow import EventTail, request_stop

STARTED = RunStarted(
    model="small_cnn",
    device="cpu",
    classes=["a", "b"],
    train_images=8,
    val_images=4,
    epochs=2,
    batches_per_epoch=1,
)


def epoch(n: int) -> EpochEnded:
    return EpochEnded(
        epoch=n,
        epochs=2,
        train_loss=1.0 / n,
        train_acc=0.5,
        val_loss=1.0,
        val_acc=0.5,
        lr=0.01,
        seconds=1.0,
        images_per_second=8.0,
        best_epoch=n,
    )


FINISHED = RunFinished(status=RunStatus.FINISHED, best_epoch=2, best_val_acc=0.5, seconds=2.0)


def line(event: Event) -> bytes:
    return (json.dumps(event.to_dict()) + "\n").encode()


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def test_tail_waits_for_a_partial_last_line_and_survives_the_folder_going(tmp_path: Path):
    run = tmp_path / "run"
    tail = EventTail(run)
    assert tail.poll() == []  # no folder yet
    run.mkdir()
    log = run / files.EVENTS
    first = line(STARTED)
    append(log, first + line(epoch(1))[:25])  # the writer is mid-line
    assert tail.poll() == [STARTED]
    assert tail.poll() == []
    rest = line(epoch(1))[25:]
    append(log, rest[:3])
    assert tail.poll() == []
    append(log, rest[3:] + b'{"event": "from_a_newer_studio"}\nnot json\n')
    assert tail.poll() == [epoch(1)] and tail.skipped == 2
    kept = run.with_name("kept")
    run.rename(kept)  # the share is unmounted for a while
    assert tail.poll() == [] and tail.finished is None
    append(kept / files.EVENTS, line(epoch(2)) + line(FINISHED))
    kept.rename(run)  # and back, with what was written meanwhile
    assert tail.poll() == [epoch(2), FINISHED]
    assert tail.finished == FINISHED


def test_a_shorter_log_is_read_again_from_its_start(tmp_path: Path):
    log = tmp_path / files.EVENTS
    log.write_bytes(line(STARTED) + line(epoch(1)) + line(epoch(2)))
    tail = EventTail(tmp_path)
    assert len(tail.poll()) == 3
    log.write_bytes(line(STARTED))
    assert tail.poll() == [STARTED]


def test_a_run_stops_at_a_stop_request_within_a_batch(dataset: Path, tmp_path: Path):
    from studio.config import ProjectConfig
    from studio.engine.training.session import RunSession

    config = ProjectConfig()
    config.data.sources = [dataset]
    config.model.name, config.model.weights = "small_cnn", "none"
    config.train.epochs, config.train.image_size, config.train.batch_size = 50, 16, 4
    config.train.device, config.train.num_workers = "cpu", 0
    run = tmp_path / "run"
    request_stop_at = (1, 2)  # epoch, batch
    seen: list[Event] = []

    def sink(event: Event) -> None:
        seen.append(event)
        if isinstance(event, BatchEnded) and (event.epoch, event.batch) == request_stop_at:
            request_stop(run)  # as a window following the run does

    (run).mkdir()
    request_stop(run)  # an old request, left by a run that had ended: not this run's
    final = RunSession(config, run).run(sink)
    assert final.status == RunStatus.STOPPED
    batches = [(e.epoch, e.batch) for e in seen if isinstance(e, BatchEnded)]
    assert batches[-1] == request_stop_at  # the next batch saw it
    assert [e["event"] for e in read_events(run / files.EVENTS)][-1] == "run_finished"


def test_studio_watch_shows_a_run_and_exits_at_its_end(tmp_path: Path, capsys):
    from studio.cli.main import main
    from studio.engine.events import CoachVerdict, OverfittingDetected

    alarm = OverfittingDetected(epoch=2, signal="val_loss_rising", detail="Overfitting!", began=2)
    verdict = CoachVerdict(text="Keep epoch 1.", signals=["val_loss_rising"])
    (tmp_path / files.EVENTS).write_bytes(
        b"".join(map(line, [STARTED, epoch(1), epoch(2), alarm, verdict, FINISHED]))
    )
    assert main(["watch", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "epoch   2/2" in out and "! Overfitting!" in out and "Coach: Keep epoch 1." in out
    assert "Run finished" in out
    assert main(["watch", str(tmp_path / "nowhere")]) == 2
    assert "Run folder not found" in capsys.readouterr().err
