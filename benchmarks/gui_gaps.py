"""How long the window's event loop stalls, per phase, as a user goes from start-up to a result.

The real app's path in one fresh process: the window appears, torch warms up in the
background, a folder of images is dropped, Train is clicked, the run trains, and the Results
tab evaluates the best model. A 10 ms QTimer ticks throughout; the longest gap between two
ticks is the longest time the window could not repaint or answer a click. Reports the worst gap
and the 99th percentile per phase (start-up, drop, train start, training, run end).

    uv run python benchmarks/gui_gaps.py [--images 200] [--epochs 2] [--explain] [--events]

Start-up settles before the drop. ``--explain`` samples every thread's stack while the
GUI thread is late by over 25 ms and prints the most common GUI-thread and worker stacks of
each phase: where the time went. ``--profile`` runs cProfile on the GUI thread from the drop
to the click on Train. ``--events`` times every event the GUI thread handles (wall and CPU
time) and lists, per phase, the longest ones and every event inside the worst gap: a gap is
often a chain of events with no timer tick between them. ``--profile-events`` also profiles
each phase's longest event. Both add a Python call to every event, so they make the gaps
longer: compare their numbers with each other, not with a plain run.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PHASES = ("start-up", "drop", "train start", "training", "run end")
LATE = 0.025  # a gap this long gets its stacks sampled with --explain


class Probe:
    """A 10 ms timer on the GUI thread; records each gap between ticks under the phase."""

    def __init__(self, explain: bool) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.phase = PHASES[0]
        self.gaps: dict[str, list[float]] = collections.defaultdict(list)
        self.worst: dict[str, tuple[float, float, float]] = {}  # gap, on a CPU, queued for one
        self.worst_span: dict[str, tuple[float, float]] = {}  # when the worst gap began, ended
        self.last = time.perf_counter()
        self.sched = _schedstat()
        self.gui = threading.get_ident()
        self.stacks: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.collections: dict[str, tuple[float, int]] = {}  # longest garbage collection
        self._collecting = 0.0
        gc.callbacks.append(self._collected)
        self._done = threading.Event()
        if explain:
            threading.Thread(target=self._sample, daemon=True).start()

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start()

    def set_phase(self, phase: str) -> None:
        self.phase = phase

    def _tick(self) -> None:
        now, sched = time.perf_counter(), _schedstat()
        gap = now - self.last
        self.gaps[self.phase].append(gap)
        if gap > self.worst.get(self.phase, (0.0,))[0]:
            ran, queued = (b - a for a, b in zip(self.sched, sched, strict=True))
            self.worst[self.phase] = (gap, ran, queued)
            self.worst_span[self.phase] = (self.last, now)
        self.last, self.sched = now, sched

    def _collected(self, step: str, info: dict) -> None:
        if step == "start":
            self._collecting = time.perf_counter()
            return
        took = time.perf_counter() - self._collecting
        if took > self.collections.get(self.phase, (0.0,))[0]:
            self.collections[self.phase] = (took, info["generation"])

    def stop(self) -> None:
        self.timer.stop()
        self._done.set()

    def _sample(self) -> None:
        while not self._done.wait(0.004):
            if time.perf_counter() - self.last < LATE:
                continue
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():
                    continue
                who = "GUI" if ident == self.gui else "worker"
                stack = traceback.extract_stack(frame)
                ours = (
                    stack
                    if who == "GUI"
                    else [f for f in stack if "site-packages" not in f.filename] or stack
                )
                lines = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in ours[-4:]]
                lines.append(f"  ↳ {Path(stack[-1].filename).name}:{stack[-1].lineno}")
                self.stacks[self.phase][(who, " < ".join(reversed(lines)))] += 1

    def report(self) -> dict[str, tuple[float, ...]]:
        """Per phase: the worst gap, how much of it the GUI thread ran and waited for a CPU
        (the rest it waited for the GIL or slept), the 99th percentile, the ticks (ms)."""
        out = {}
        for phase in PHASES:
            gaps = self.gaps.get(phase, [])
            if len(gaps) > 2:
                p99 = statistics.quantiles(gaps, n=100, method="inclusive")[98]
                worst = tuple(t * 1000 for t in self.worst[phase])
                out[phase] = (*worst, p99 * 1000, len(gaps))
        return out


def timed_app(record, profile: bool = False) -> object:
    """A QApplication whose ``notify`` times every top-level event on the GUI thread and
    calls ``record(started, seconds, cpu_seconds, what, stats)`` for those over 2 ms (what:
    receiver and event type; cpu_seconds: how much of it the GUI thread ran, the rest it was
    blocked; stats: the event's cProfile statistics with ``profile``, else None)."""
    import cProfile

    from PySide6.QtWidgets import QApplication

    class TimedApp(QApplication):
        depth = 0

        def notify(self, receiver, event) -> bool:
            TimedApp.depth += 1
            profiler = cProfile.Profile() if profile and TimedApp.depth == 1 else None
            if profiler is not None:
                profiler.enable()
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return super().notify(receiver, event)
            finally:
                TimedApp.depth -= 1
                took = time.perf_counter() - started
                if profiler is not None:
                    profiler.disable()
                if TimedApp.depth == 0 and took > 0.002:
                    name = _name(receiver)
                    kind = event.type().name if hasattr(event.type(), "name") else event.type()
                    what = f"{type(receiver).__name__}({name}) {kind}"
                    record(started, took, time.thread_time() - cpu, what, profiler)

    return TimedApp([])


def _name(receiver) -> str:
    """The receiver's object name, else its nearest named ancestor's (``in …``); a
    graphics scene is named after its view."""
    views = getattr(receiver, "views", None)
    if callable(views) and views():
        receiver = views()[0]
    named, hops = receiver, 0
    while named is not None and hasattr(named, "objectName") and not named.objectName():
        named, hops = named.parent(), hops + 1
    if named is None or not hasattr(named, "objectName"):
        return ""
    return named.objectName() if hops == 0 else f"in {named.objectName()}"


def _schedstat() -> tuple[float, float]:
    """Seconds this thread has run on a CPU and waited in the run queue for one (Linux)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as handle:
            ran, queued, _ = handle.read().split()
        return int(ran) / 1e9, int(queued) / 1e9
    except OSError:
        return 0.0, 0.0


def make_images(root: Path, per_class: int, size: int = 64) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, colour in {
        "red": (200, 40, 40),
        "green": (40, 200, 40),
        "blue": (40, 40, 200),
    }.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            noise = rng.integers(-40, 40, size=(size, size, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}_{i:04d}.png")
    return root


def _compile_like_a_second_launch() -> None:
    """Measure the app as users meet it from the second launch on: with Studio's bytecode
    cached. A worker compiling a module holds the GIL for the whole module, which shows up
    as the GUI thread waiting; where ``PYTHONDONTWRITEBYTECODE`` is set (some CI machines)
    every launch would compile again, so compile once here."""
    import compileall
    import sysconfig

    for folder in (ROOT / "studio", Path(sysconfig.get_paths()["purelib"])):
        compileall.compile_dir(folder, quiet=2, workers=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200, help="images per class (3 classes)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the GUI thread from the drop to Train"
    )
    parser.add_argument(
        "--events", action="store_true", help="list the GUI thread's longest events per phase"
    )
    parser.add_argument(
        "--profile-events",
        action="store_true",
        help="--events, and cProfile each phase's longest event",
    )
    args = parser.parse_args()
    _compile_like_a_second_launch()
    tmp = Path(tempfile.mkdtemp(prefix="gui-gaps-"))
    os.environ["STUDIO_HOME"] = str(tmp / "home")
    os.environ["TORCH_HOME"] = str(tmp / "torch")
    data = make_images(tmp / "data", args.images)

    from PySide6.QtCore import QEventLoop, QMimeData, QPoint, QPointF, Qt, QTimer
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from studio.qt.app import create_app, show_main_window
    from studio.qt.later import queue
    from studio.qt.main_window import file_urls

    slow: list[tuple] = []  # --events: phase, start, seconds, CPU, what ran, its profile
    timed = (
        timed_app(
            lambda *event: slow.append((probe.phase, *event)),
            profile=args.profile_events,
        )
        if args.events or args.profile_events
        else None
    )
    app = create_app([])
    assert timed is None or app is timed
    probe = Probe(args.explain)
    probe.start()
    window = show_main_window(app)
    later = queue()  # panels refresh and workers start in passes of their own

    def wait(signal=None, idle: bool = True, timeout: float = 600) -> None:
        """Run the event loop until ``signal`` fired and no background task or queued
        refresh is left."""
        loop = QEventLoop()
        fired = [signal is None]
        if signal is not None:
            signal.connect(lambda *a: fired.__setitem__(0, True))
        deadline = time.monotonic() + timeout

        def check() -> None:
            busy = window.model.tasks.busy or window.controller.running or not later.idle
            if (fired[0] and not (idle and busy)) or time.monotonic() > deadline:
                loop.quit()

        poll = QTimer()
        poll.timeout.connect(check)
        poll.start(20)
        loop.exec()
        poll.stop()

    QTimer.singleShot(0, window.finish_startup)
    wait(window.device_detected)

    import cProfile
    import pstats

    profiler = cProfile.Profile()
    if args.profile:
        profiler.enable()
    probe.set_phase("drop")
    mime = QMimeData()
    mime.setUrls(file_urls([data]))
    action, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier
    QApplication.sendEvent(
        window, QDragEnterEvent(QPoint(400, 300), action, mime, button, mods.NoModifier)
    )
    QApplication.sendEvent(
        window, QDropEvent(QPointF(400, 300), action, mime, button, mods.NoModifier)
    )
    wait(window.model.dataset_changed)
    window.model.update("train", epochs=args.epochs)
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)

    probe.set_phase("train start")
    window.controller.batches_ended.connect(lambda e: probe.set_phase("training"))
    window.controller.run_finished.connect(lambda e: probe.set_phase("run end"))
    QTimer.singleShot(0, window.train_button.click)
    wait(window.results.evaluated)
    probe.stop()
    closed = QEventLoop()
    window.closed.connect(closed.quit)
    if not window.close():  # a worker still runs: the window closes once it has ended
        closed.exec()

    print(
        f"event-loop gaps ({os.cpu_count()} cores, {3 * args.images} images, small_cnn, "
        f"{args.epochs} epochs):"
    )
    print("worst gap: GUI running | waiting for a CPU | waiting for the GIL or asleep")
    print("gc: the phase's longest garbage collection (ms, generation), on any thread")
    print(
        f"{'phase':<12} {'worst ms':>9} {'run':>6} {'CPU':>6} {'GIL':>6} {'p99 ms':>8} "
        f"{'ticks':>7} {'gc':>9}"
    )
    for phase, (worst, ran, queued, p99, n) in probe.report().items():
        rest = worst - ran - queued
        took, generation = probe.collections.get(phase, (0.0, 0))
        print(
            f"{phase:<12} {worst:9.0f} {ran:6.0f} {queued:6.0f} {rest:6.0f} {p99:8.0f} {n:7.0f} "
            f"{took * 1000:6.0f} ({generation})"
        )
    if args.events or args.profile_events:
        for phase in PHASES:
            print(f"\n== {phase}: the GUI thread's longest events (ms, of which it ran)")
            events = sorted((e for e in slow if e[0] == phase), key=lambda e: -e[2])
            for _, _, took, cpu, what, _stats in events[:6]:
                print(f"{took * 1000:7.0f} {cpu * 1000:5.0f} {what}")
            began, ended = probe.worst_span.get(phase, (0.0, 0.0))
            print(f"   in its worst gap ({(ended - began) * 1000:.0f} ms), events over 2 ms:")
            for _, started, took, cpu, what, _stats in slow:
                if began <= started < ended:
                    at = (started - began) * 1000
                    print(f"   +{at:4.0f} {took * 1000:5.0f} {cpu * 1000:5.0f} {what}")
            if args.profile_events and events and phase != "start-up":
                pstats.Stats(events[0][5]).sort_stats("cumulative").print_stats(25)
    if args.explain:
        for phase in PHASES:
            print(f"\n== {phase}: most sampled stacks while the GUI was late")
            for (who, stack), count in probe.stacks[phase].most_common(8):
                print(f"{count:5d} {who:6} {stack}")


if __name__ == "__main__":
    main()
