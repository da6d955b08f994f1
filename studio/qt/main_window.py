"""The main window: four docks around the live plots, Train/Stop, progress and device."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.engine.events import RunStatus
from studio.engine.runs import files
from studio.errors import StudioError
from studio.qt.eta import Eta, clock
from studio.qt.fit import CENTRAL_MIN_WIDTH, PREFERRED, compact_combos, fit_to_screen, scrollable
from studio.qt.gui_gc import collect_on_gui_thread
from studio.qt.help import install as install_help
from studio.qt.later import later, queue
from studio.qt.panels.augment_preview import AugmentationPreviewPanel
from studio.qt.panels.coach_banner import CoachBanner
from studio.qt.panels.dataset_browser import DatasetBrowserPanel
from studio.qt.panels.hyperparams import HyperparameterPanel
from studio.qt.panels.label_issues import LabelIssuesPanel
from studio.qt.panels.model_picker import ModelPickerPanel
from studio.qt.panels.plots import TrainingPlots
from studio.qt.panels.results import ResultsPanel
from studio.qt.panels.welcome import WelcomePanel
from studio.qt.project_actions import ProjectActions
from studio.qt.project_model import ProjectModel
from studio.qt.steady import ProgressBar, StatusBar, SteadyLabel
from studio.qt.task_progress import TaskProgress
from studio.qt.training_controller import TrainingController
from studio.qt.warm_up import device_name, import_for_runs
from studio.qt.widgets import guard_wheel
from studio.resources import sample_dataset


def _named(widget: QWidget, name: str, accessible: str) -> QWidget:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    return widget


class MainWindow(QMainWindow):
    """Studio's window. ``MainWindow()`` builds everything; ``defer_plots=True`` (used by
    ``studio`` at start-up) waits for :meth:`finish_startup` to load pyqtgraph.

    ``device_detected(str)`` fires on the GUI thread once torch has loaded in the background;
    ``closed()`` once the window has really closed (no worker left; see :meth:`closeEvent`).
    """

    device_detected = Signal(str)
    closed = Signal()

    def __init__(self, defer_plots: bool = False) -> None:
        super().__init__()
        self.setWindowTitle("Studio — image classifier training")
        self.resize(*PREFERRED)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.model = ProjectModel(self)
        self.controller = TrainingController(self)
        self.last_run_dir: Path | None = None
        self.eta = Eta()
        self._total_batches = 1
        self._speed = ""
        self._last_status: str | None = None
        self._stopped_early = False  # the coach's verdict says whether early stopping ended it
        self._closing = False
        self.layout_mode = "wide"  # until fit_to_screen picks one for the screen
        self._build_docks()
        self._build_central()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.project = ProjectActions(self)  # File → projects, the Runs tab, run recording
        self.project.runs.results_requested.connect(self.show_results)
        self.project.project_changed.connect(lambda: self.results.show_latest(self.project.store))
        self.help = install_help(self)  # Help, glossary, tour, shortcuts, View → Appearance
        guard_wheel(self)  # the wheel scrolls panels, not unfocused knobs
        collect_on_gui_thread(QApplication.instance(), self._busy)  # never on a worker
        if not defer_plots:
            self.plots.build()

    # -- construction -------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.browser = DatasetBrowserPanel(self.model)
        self.augment = AugmentationPreviewPanel(self.model)
        self.picker = ModelPickerPanel(self.model)
        self.hyper = HyperparameterPanel(self.model)
        area = Qt.DockWidgetArea
        self.docks: dict[str, QDockWidget] = {}
        for name, title, panel, where in (
            ("datasetBrowser", "Dataset", self.browser, area.LeftDockWidgetArea),
            ("modelPicker", "Model", self.picker, area.LeftDockWidgetArea),
            ("augmentationPreview", "Augmentation", self.augment, area.RightDockWidgetArea),
            ("hyperparameterPanel", "Training settings", self.hyper, area.RightDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            _named(dock, name, f"{title} panel")
            compact_combos(panel)
            dock.setWidget(scrollable(panel))  # a small screen scrolls the dock, not the window
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable  # View can toggle it
            )
            self.addDockWidget(where, dock)
            self.docks[name] = dock
        self.resizeDocks(
            [self.docks["datasetBrowser"], self.docks["augmentationPreview"]],
            [300, 290],
            Qt.Orientation.Horizontal,
        )

    def _build_central(self) -> None:
        self.banner = CoachBanner(self.model)
        self.message = _named(QLabel(), "messageBanner", "Message")
        self.message.setWordWrap(True)
        self.message.hide()
        self.welcome = WelcomePanel()
        self.plots = TrainingPlots(self.model)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.plots)
        self.train_button = _named(QPushButton("Train"), "trainButton", "Train")
        self.train_button.setProperty("primary", True)
        self.train_button.setToolTip("Train the chosen model on the images (Ctrl+Enter).")
        self.train_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.stop_button = _named(QPushButton("Stop"), "stopButton", "Stop")
        self.stop_button.setToolTip("Stop after the current batch; the best model so far is kept.")
        self.stop_button.setEnabled(False)
        self.pause_button = _named(QPushButton("Pause"), "pauseButton", "Pause")
        self.pause_button.setToolTip("Hold training after the current batch; continue any time.")
        self.pause_button.setCheckable(True)
        self.pause_button.setEnabled(False)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.progress = _named(ProgressBar(), "progressBar", "Training progress")
        self.progress.setTextVisible(False)
        self.progress_label = _named(
            SteadyLabel("Ready", widest="Epoch 10/10 · val acc 99.9% · 999 img/s"),
            "progressLabel",
            "Training status",
        )
        self.result_label = _named(QLabel(), "resultLabel", "Last result")
        controls = QHBoxLayout()
        controls.addWidget(self.train_button)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.progress_label)
        training = QWidget()
        training_layout = QVBoxLayout(training)
        training_layout.setContentsMargins(0, 0, 0, 0)
        training_layout.addWidget(self.banner)
        training_layout.addWidget(self.stack, 1)
        self.tabs = _named(QTabWidget(), "centralTabs", "Views")
        self.tabs.setDocumentMode(True)
        self.tabs.setMinimumWidth(CENTRAL_MIN_WIDTH)  # the docks give way first, see fit.py
        self.tabs.addTab(training, "Training")
        self.tabs.addTab(self.browser.images_page, "Images")
        self.tabs.addTab(self.browser.report, "Data health")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(controls)
        layout.addWidget(self.result_label)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        add = QAction("&Add folder…", self, shortcut=QKeySequence("Ctrl+O"))
        add.triggered.connect(self.choose_folder)
        sample = QAction("Use &sample dataset", self)
        sample.triggered.connect(self.use_sample_dataset)
        clear = QAction("&Clear dataset", self)
        clear.triggered.connect(self.model.clear_sources)
        follow = QAction("&Follow run…", self)
        follow.setToolTip("Watch a run another process trains (studio train, a shared folder).")
        follow.triggered.connect(self.choose_run_to_follow)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (add, sample, clear, follow):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        train_menu = self.menuBar().addMenu("&Train")
        start = QAction("&Train", self)
        start.triggered.connect(self.start_training)
        stop = QAction("&Stop", self)
        stop.triggered.connect(self.controller.stop)
        self.resume_action = QAction("&Resume last run", self)
        self.resume_action.setToolTip(
            "Continue a stopped or interrupted run from its last checkpoint."
        )
        self.resume_action.setEnabled(False)
        self.resume_action.triggered.connect(lambda: self.resume_training())
        train_menu.addActions([start, stop, self.resume_action])
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        reset = QAction("&Reset layout", self)
        reset.setObjectName("resetLayoutAction")
        reset.setToolTip("Every panel back in its place, sized for this screen.")
        reset.triggered.connect(self.fit_to_screen)
        view_menu.addAction(reset)

    def _build_status_bar(self) -> None:
        self.device_label = _named(QLabel("Device: detecting…"), "deviceLabel", "Device")
        self.device_label.setToolTip("Where training runs. A GPU is used when there is one.")
        self.task_progress = TaskProgress(self.model.tasks)  # scans, checks, evaluations…
        self.setStatusBar(StatusBar())
        self.statusBar().addPermanentWidget(self.task_progress)
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().showMessage("Drop image folders on the window to begin.")

    def _connect(self) -> None:
        self.welcome.sample_requested.connect(self.use_sample_dataset)
        self.welcome.add_folder_requested.connect(self.choose_folder)
        self.browser.sample_requested.connect(self.use_sample_dataset)
        self.browser.add_folder_requested.connect(self.choose_folder)
        self.browser.tree.itemClicked.connect(
            lambda item: self.augment.show_class(self.browser.tree.indexOfTopLevelItem(item))
        )
        self.browser.image_picked.connect(self.augment.set_image)
        self.model.dataset_changed.connect(self._dataset_changed)
        self.browser.report_ready.connect(self._report_ready)
        self.model.scan_failed.connect(self.show_message)
        self.model.sources_rejected.connect(self._sources_rejected)
        self.model.project_changed.connect(self._forget_run)
        self.train_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.controller.stop)
        self.controller.run_started.connect(self._run_started)
        self.controller.batches_ended.connect(self._batches_ended)
        self.controller.epoch_ended.connect(self._epoch_ended)
        self.controller.run_finished.connect(self._run_finished)
        self.controller.coach_spoke.connect(self._coach_spoke)
        self.controller.noticed.connect(lambda e: self.statusBar().showMessage(e.message, 15_000))
        self.banner.stop_requested.connect(self.controller.stop)
        self.device_detected.connect(self._device_detected)
        self.results = ResultsPanel(self.model)  # the Results tab opens when a run finishes
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.results.try_panel, "Try")
        self.label_issues = LabelIssuesPanel(self.model, self._cache_dir)
        self.tabs.addTab(self.label_issues, "Label issues")
        self.controller.run_finished.connect(self._open_results_later)
        self.controller.run_finished.connect(self._close_when_idle)
        self.model.tasks.idle.connect(self._close_when_idle)

    def _open_results_later(self, event) -> None:
        self._finished = (event, self.last_run_dir)
        later(self._open_results)  # in a pass of its own: the run's end shows first

    def _open_results(self) -> None:
        """After a run that kept a best model: the Results tab evaluates it (not when the
        window is closing: the run ended because it closes)."""
        event, run_dir = self._finished
        if not self._closing and self.results.run_finished(event, run_dir):
            self.tabs.setCurrentWidget(self.results)

    def fit_to_screen(self) -> str:
        """Dock layout and window size for this screen (see :mod:`studio.qt.fit`)."""
        self.layout_mode = fit_to_screen(self, self.docks)
        return self.layout_mode

    def finish_startup(self) -> None:
        """After the window is visible: load the plots, then warm torch up in the background
        (which also names the device in the status bar), then what a run needs."""
        self.plots.build()
        later(self._warm_plots)
        self.model.tasks.start(device_name, self.device_detected.emit, self._device_unknown)
        self.picker.load_catalogue()
        self.model.detect_machine()  # the settings resolver's loader workers follow it
        self.device_detected.connect(
            lambda _name: self.model.tasks.start(import_for_runs),
            Qt.ConnectionType.SingleShotConnection,
        )

    def _device_unknown(self, _exc: Exception) -> None:
        self.device_detected.emit("unknown")

    def _warm_plots(self) -> None:
        """Draw the plots page once, off screen at the size it will have: the drop that
        shows it then does not pay for pyqtgraph's first paint (layouts, fonts, axes)."""
        if self.stack.currentWidget() is not self.plots:
            self.plots.resize(self.stack.size())
            self.plots.grab()

    def _cache_dir(self) -> Path | None:
        """Where quick models keep backbone features: the open project's ``cache/``."""
        return self.project.folder / "cache" if self.project.folder else None

    # -- data ---------------------------------------------------------------------------
    def add_folders(self, folders: list[Path]) -> None:
        later(self._show_plots_page)
        self.model.add_sources(folders)  # the status bar's task progress shows the scan

    def _show_plots_page(self) -> None:
        """The plots page replaces the welcome page while the scan runs, in an event-loop
        pass after the drop's: its first paint (both plots) then stalls the window alone."""
        if self.model.scanning or self.model.has_data:
            self.stack.setCurrentWidget(self.plots)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images")
        if folder:
            self.add_folders([Path(folder)])

    def use_sample_dataset(self) -> None:
        """Load the built-in digits. Flips would turn digits into other shapes: off."""
        self.augment.apply_preset("documents")
        self.model.clear_sources()
        self.add_folders([sample_dataset()])
        self.statusBar().showMessage(
            "Sample digits loaded with the Documents & digits augmentation: no flips, small "
            "rotations. A mirrored digit is not a digit."
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        folders = [p for p in paths if p.is_dir()]
        if folders:
            event.acceptProposedAction()
            self.add_folders(folders)
        elif paths:
            self.show_message(
                "Drop folders, not single files: one folder per class, or a "
                "folder of class folders."
            )

    def _dataset_changed(self, index) -> None:
        has_data = len(index) > 0
        self.stack.setCurrentWidget(self.plots if has_data else self.welcome)
        self.message.hide()
        self.tabs.setTabText(self.tabs.indexOf(self.browser.report), "Data health")
        self._forget_run()
        if has_data:
            self.statusBar().showMessage(
                f"{len(index):,} images in {len(index.classes)} classes. Ready to train."
            )

    def _forget_run(self) -> None:
        """Another project or dataset: the last run's progress and result line go."""
        if not self.controller.running:
            self.result_label.clear()
            self.progress.setValue(0)
            self.progress_label.setText("Ready")

    def _sources_rejected(self, message: str) -> None:
        """Folders that could not be added: say so; the project and panels are unchanged."""
        self.stack.setCurrentWidget(self.plots if self.model.has_data else self.welcome)
        self.statusBar().showMessage(message, 15_000)
        self.show_message(message)

    def _report_ready(self, report) -> None:
        found = len(report.problems)
        title = f"Data health ({found})" if found else "Data health ✓"
        self.tabs.setTabText(self.tabs.indexOf(self.browser.report), title)

    # -- training -----------------------------------------------------------------------
    def start_training(self) -> None:
        if self.controller.running:
            return
        index = self.model.index
        if not self.model.has_data:
            self.show_message(
                "Add images first: drop class folders on the window, or try the sample dataset."
            )
            return
        if len(index.classes) < 2:
            self.show_message("A classifier needs at least 2 classes: add another folder.")
            return
        self._clear_for_run()
        self.progress_label.setText("Starting…")
        resolution = self.model.resolution  # what the CLI would run for the same choices
        session = self.controller.start(
            resolution.config,
            runs_root=self.project.runs_folder(),
            project=self.project.history_folder(),
            notices=resolution.notices,  # e.g. loader workers lowered to what fits
        )
        self.last_run_dir = session.run_dir
        self.plots.run_name = session.run_dir.name  # names its curves when compared later
        self._set_training(True)

    def resume_training(self, run_dir: Path | None = None) -> None:
        """Continue ``run_dir`` (default: the last run) from its last checkpoint."""
        from studio.config.io import load_run_config
        from studio.engine.runs.eventlog import past_epochs

        run_dir = run_dir or self.last_run_dir
        if self.controller.running or run_dir is None:
            return
        try:
            config = load_run_config(run_dir)
            past = past_epochs(run_dir)
        except (OSError, ValueError, StudioError) as exc:
            self.show_message(f"Cannot resume {run_dir.name}: {exc}")
            return
        self.message.hide()
        self.plots.build()
        self.plots.reset(epochs=config.train.epochs)
        for event in past:
            self.plots.add_epoch(event)
        self.last_run_dir = run_dir
        self.plots.run_name = run_dir.name
        self.progress_label.setText("Resuming…")
        self.controller.start(config, run_dir, resume=True, project=self.project.history_folder())
        self._set_training(True)

    def choose_run_to_follow(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Follow a run folder")
        if folder:
            self.follow_run(Path(folder))

    def follow_run(self, run_dir: Path) -> None:
        """Show live the run another process trains into ``run_dir`` (a ``studio train``, a
        server's run on a shared folder): plots, progress, coach and results, as for a run
        trained here. Stop asks that process to stop; it cannot be paused from here."""
        if self.controller.running:
            return
        if not run_dir.is_dir():
            self.show_message(f"Run folder not found: {run_dir}")
            return
        self._clear_for_run()
        self.stack.setCurrentWidget(self.plots)
        self.progress_label.setText(f"Following {run_dir.name}…")
        self.last_run_dir = run_dir
        self.controller.follow(run_dir)
        self._set_training(True)
        self.pause_button.setEnabled(False)

    def _clear_for_run(self) -> None:
        """A new run is shown (trained here or followed): no message, banner or curves of
        the last one, progress at zero."""
        self.message.hide()
        self.banner.reset()
        self._stopped_early = False
        self.plots.build()
        self.plots.reset()
        self.progress.setValue(0)

    def _pause_toggled(self, paused: bool) -> None:
        self.controller.set_paused(paused)
        (self.eta.pause if paused else self.eta.resume)()
        self.pause_button.setText("Continue" if paused else "Pause")
        if paused:
            self.progress_label.setText("Paused: click Continue to go on")

    def _set_training(self, training: bool) -> None:
        self.train_button.setEnabled(not training)
        self.stop_button.setEnabled(training)
        self.pause_button.setEnabled(training)
        if not training:
            self.pause_button.setChecked(False)
        self.resume_action.setEnabled(not training and self._can_resume())
        for name in ("datasetBrowser", "modelPicker", "hyperparameterPanel"):
            self.docks[name].widget().setEnabled(not training)

    def _can_resume(self) -> bool:
        run = self.last_run_dir
        if run is None or not (run / files.LAST).is_file():
            return False
        return self._last_status in (RunStatus.STOPPED, RunStatus.FAILED, RunStatus.INTERRUPTED)

    def _run_started(self, event) -> None:
        self.eta.start()
        self.plots.expect(event.epochs, len(event.classes))
        self._total_batches = max(1, event.epochs * event.batches_per_epoch)
        self.progress.setRange(0, self._total_batches)
        self.statusBar().showMessage(
            f"Training {event.model} on {event.device}: {event.train_images} training and "
            f"{event.val_images} validation images."
        )
        self._device_detected(event.device)

    def _batches_ended(self, events) -> None:
        self.plots.add_batches(events)
        last = events[-1]
        done = (last.epoch - 1) * last.batches + last.batch
        self.progress.setValue(done)
        remaining = self.eta.remaining(done, self._total_batches)
        eta = "ETA …" if remaining is None else f"ETA {clock(remaining)}"
        epochs = self.controller.config.train.epochs if self.controller.config else last.epoch
        self.progress_label.setText(f"Epoch {last.epoch}/{epochs} · {eta}{self._speed}")

    def _epoch_ended(self, event) -> None:
        self.plots.add_epoch(event)
        self._speed = f" · {event.images_per_second:,.0f} img/s"
        self.progress_label.setText(
            f"Epoch {event.epoch}/{event.epochs} · val acc {event.val_acc:.1%}{self._speed}"
        )

    def _coach_spoke(self, event) -> None:
        if event.name == "coach_verdict":
            self._stopped_early = event.stopped_early
            return
        if event.name == "overfitting_cleared":
            self.banner.clear_signal(event)
        else:
            self.banner.show_diagnosis(event, training=self.controller.running)
        began = [e.began for e in self.banner.active.values() if e.name == "overfitting_detected"]
        self.plots.mark_divergence(min(began, default=None), event.epoch)

    def _run_finished(self, event) -> None:
        self.plots.finish()
        self._last_status = event.status
        self._set_training(False)
        self.banner.training_ended(stopped_early=self._stopped_early)
        self._speed = ""
        best = (
            f"best validation accuracy {event.best_val_acc:.1%} at epoch {event.best_epoch}"
            if event.best_epoch
            else "no epoch completed"
        )
        if event.status == RunStatus.FINISHED:
            self.progress.setValue(self.progress.maximum())
            self.progress_label.setText("Done")
            how = f" {event.message}" if event.message else ""
            self.result_label.setText(f"Finished in {clock(event.seconds)}: {best}.{how}")
        elif event.status == RunStatus.STOPPED:
            self.progress_label.setText("Stopped")
            self.result_label.setText(f"Stopped after {clock(event.seconds)}: {best}.")
        else:
            self.progress_label.setText("Failed")
            self.show_message(f"Training failed: {event.message}")
        self.statusBar().showMessage(f"Run saved in {self.last_run_dir}")

    def show_results(self, run_dir: Path) -> None:
        """The Results tab, showing the run saved in ``run_dir``."""
        self.results.show_run(run_dir)
        self.tabs.setCurrentWidget(self.results)

    @property
    def training(self) -> bool:
        return self.controller.running

    # -- feedback -----------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def _device_detected(self, name: str) -> None:
        self.device_label.setText(f"Device: {name}")

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window goes away only once no worker lives. The first close (after the
        unsaved-changes question) asks training and background work to stop: a run ends as
        "stopped" and keeps its best epoch. Until every worker has ended, the window stays,
        greyed out, and closes itself then; the event loop never waits."""
        if not self._closing:
            if not self.project.may_close():
                event.ignore()
                return
            self._closing = True
            self.controller.close()
            self.model.tasks.close()
            self.project.shutdown()
        if self.controller.running or self.model.tasks.busy:
            event.ignore()
            for widget in (self.centralWidget(), *self.docks.values()):
                widget.setEnabled(False)
            self.statusBar().showMessage("Closing: waiting for the run to stop and save…")
            return
        super().closeEvent(event)
        self.closed.emit()

    def _busy(self) -> bool:
        """Whether a run or background work is under way (a full garbage collection waits)."""
        return self.controller.running or self.model.tasks.busy or not queue().idle

    def _close_when_idle(self) -> None:
        if self._closing and not (self.controller.running or self.model.tasks.busy):
            self.close()


def file_urls(paths: list[Path]) -> list[QUrl]:
    """Local-file URLs, as a drag from a file manager carries them."""
    return [QUrl.fromLocalFile(str(p)) for p in paths]
