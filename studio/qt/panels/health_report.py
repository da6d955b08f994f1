"""The Data health tab: a bar chart of the images per class training uses, warnings, and the
problem list with a one-click fix per problem (undoable). The check runs off the GUI thread,
with progress and a Cancel button."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.engine.data.problems import KIND_HELP, KIND_TITLES
from studio.qt.later import deferred
from studio.qt.panels.thumbnail_grid import fit_square
from studio.qt.project_model import ProjectModel
from studio.qt.steady import ProgressBar
from studio.qt.thumbnails import ThumbnailLoader

if TYPE_CHECKING:
    from studio.engine.data.health import HealthReport, Problem

BAR = 16
FIRST = "first of its group (kept by default)"


class CountsChart(QWidget):
    """Horizontal bars, one per class, long enough to compare at a glance."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classCountsChart")
        self.setAccessibleName("Images per class")
        self.counts: dict[str, int] = {}

    def set_counts(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        self.setToolTip("\n".join(f"{k}: {v:,}" for k, v in counts.items()))
        self.setMinimumHeight(len(counts) * (BAR + 4) + 4)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(200, len(self.counts) * (BAR + 4) + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.counts:
            return
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        name_w = min(self.width() // 3, max(metrics.horizontalAdvance(n) for n in self.counts) + 6)
        top = max(self.counts.values()) or 1
        span = max(10, self.width() - name_w - 60)
        for row, (name, count) in enumerate(self.counts.items()):
            y = 2 + row * (BAR + 4)
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(0, y, name_w - 4, BAR), Qt.AlignmentFlag.AlignRight, name)
            width = span * count / top
            painter.fillRect(QRectF(name_w, y + 2, width, BAR - 4), QColor(70, 130, 200))
            painter.drawText(QRectF(name_w + width + 4, y, 60, BAR), 0, f"{count:,}")
        painter.end()


GROUP_KINDS = ("duplicate", "conflicting_labels", "leakage", "near_duplicate")
CLASS_KINDS = ("empty_class", "too_few_images", "imbalance", "single_class")
SIZES_KIND = "sizes"
PathRole = Qt.ItemDataRole.UserRole
KindRole = Qt.ItemDataRole.UserRole + 1
FixRole = Qt.ItemDataRole.UserRole + 2  # (fix name, argument), what a click on "Fix" does
GroupRole = Qt.ItemDataRole.UserRole + 3  # the paths of a duplicate group
ICON = 48
DETAIL = 1  # the detail column
FIX = 2  # the fix column


class WrappedDetail(QStyledItemDelegate):
    """Rows as tall as the detail text wrapped at its column's width (a tree view sizes a
    row for one line of text, whatever the column's width)."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> QSize:
        wrapped = QStyleOptionViewItem(option)
        wrapped.rect = QRect(0, 0, self.tree.header().sectionSize(index.column()), 1)
        return super().sizeHint(wrapped, index)


class HealthFixes:
    """One-click fixes of what the check found, written through the project model (so the
    next run uses them, and a saved project keeps them), with an undo history."""

    def __init__(self, model: ProjectModel) -> None:
        self.model = model
        self.history: list[tuple[str, dict[str, Any]]] = []

    def _change(self, section: str, **values: Any) -> None:
        target = getattr(self.model.config, section)
        before = {k: copy.deepcopy(getattr(target, k)) for k in values}
        if before == values:
            return
        self.history.append((section, before))
        self.model.update(section, **values)

    def exclude(self, paths: list[Path]) -> None:
        current = list(self.model.config.data.excluded_files)
        self._change("data", excluded_files=current + [p for p in paths if p not in current])

    def include(self, paths: list[Path]) -> None:
        current = self.model.config.data.excluded_files
        self._change("data", excluded_files=[p for p in current if p not in paths])

    def keep_one(self, group: list[Path], keep: Path) -> None:
        """Train on ``keep`` only of a group of (near-)duplicates."""
        current = [p for p in self.model.config.data.excluded_files if p != keep]
        others = [p for p in group if p != keep and p not in current]
        self._change("data", excluded_files=current + others)

    def exclude_class(self, name: str) -> None:
        names = list(self.model.config.data.excluded_classes)
        if name not in names:
            self._change("data", excluded_classes=[*names, name])

    def image_size(self, size: int) -> None:
        self._change("train", image_size=size)

    def class_weighting(self) -> None:
        self._change("train", class_weighting="loss")

    def undo(self) -> None:
        if self.history:
            section, values = self.history.pop()
            self.model.update(section, **values)


class HealthReportView(QWidget):
    """Progress while checking, then the counts chart, warnings, sizes and the problem list:
    problems grouped by kind in plain words, each file with its thumbnail, its name (the full
    path on hover) and a one-click fix; duplicate groups offer to keep one."""

    cancel_requested = Signal()

    def __init__(self, model: ProjectModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.fixes = HealthFixes(model)
        self.progress = ProgressBar(objectName="healthProgress", accessibleName="Data check")
        self.progress.setFormat("Checking %v/%m files")
        cancel = QPushButton("Cancel", objectName="cancelCheckButton")
        cancel.setToolTip("Stop checking: the report shows what was found so far.")
        cancel.clicked.connect(self.cancel_requested)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(cancel)
        self.progress_row.hide()
        self.chart = CountsChart()
        self.status = QLabel(objectName="healthSummary", wordWrap=True)
        self.undo_button = QPushButton("Undo fix", objectName="undoHealthFixButton")
        self.undo_button.setToolTip("Undo the last fix from this report.")
        self.undo_button.clicked.connect(self.undo)
        self.undo_button.setEnabled(False)
        hint = QLabel("Click a fix to apply it to the project: the next run uses it.")
        hint.setStyleSheet("color: gray;")
        fix_row = QHBoxLayout()
        fix_row.addWidget(hint, 1)
        fix_row.addWidget(self.undo_button)
        self.problems = QTreeWidget(objectName="problemList")
        self.problems.setAccessibleName("Data problems")
        self.problems.setHeaderLabels(["Problem", "Detail", "Fix"])
        self.problems.setIconSize(QSize(ICON, ICON))
        self.problems.setTextElideMode(Qt.TextElideMode.ElideRight)  # full text on hover
        self.problems.setWordWrap(True)  # the details wrap rather than elide
        self.problems.setItemDelegateForColumn(DETAIL, WrappedDetail(self.problems))
        self.problems.itemClicked.connect(self._clicked)
        self.problems.itemExpanded.connect(self._request_icons)
        header = self.problems.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(DETAIL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(FIX, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        header.resizeSection(0, 240)
        # wrapped rows take their height again for the column's new width
        header.sectionResized.connect(lambda *_: self.problems.doItemsLayout())
        self.icons = ThumbnailLoader(model.tasks, ICON, parent=self)
        self.icons.loaded.connect(self._icon_loaded)
        self._items_of: dict[str, list[QTreeWidgetItem]] = {}
        self._lines: list[str] = []
        self._split_line = ""
        self.report: HealthReport | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.chart)
        layout.addWidget(self.status)
        layout.addLayout(fix_row)
        layout.addWidget(self.problems, 1)
        self._fix_key: tuple = ()
        model.config_changed.connect(deferred(self._config_changed))

    def checking(self, done: int, total: int) -> None:
        self.progress_row.show()
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def clear(self) -> None:
        self.progress_row.hide()
        self.chart.set_counts({})
        self._lines, self._split_line = [], ""
        self.status.clear()
        self.problems.clear()
        self._items_of = {}
        self.icons.cancel_all()
        self.report = None
        self.fixes.history.clear()
        self.undo_button.setEnabled(False)

    def show_report(self, report: HealthReport) -> None:
        self.progress_row.hide()
        self.report = report
        self.chart.set_counts(report.classes)
        lines: list[str] = []
        if report.cancelled:
            lines.append(f"Check stopped: {report.checked:,} of {report.files:,} files read.")
            self._split_line = "Split: not worked out (the check was stopped)."
        tally = Counter(p.kind for p in report.problems)
        if tally:
            lines.append(
                "⚠ " + " · ".join(f"{KIND_TITLES[k]}: {tally[k]}" for k in KIND_TITLES if tally[k])
            )
        elif not report.cancelled:
            lines.insert(0, "✓ No problems found.")
        self._lines = lines
        self._render()
        self._fill(report)
        self._show_fix_states()

    def show_counts(self, counts: dict[str, int]) -> None:
        """The images per class training uses (edits applied), the same numbers as the
        class list and the split."""
        self.chart.set_counts(counts)

    def show_split(self, totals: dict[str, int]) -> None:
        """The training split's size per part, as the trainer will split (edits applied)."""
        used = sum(totals.values())
        parts = " · ".join(f"{k} {totals.get(k, 0):,}" for k in ("train", "val", "test"))
        self._split_line = f"Split: {parts} — <b>{used:,} images to train with</b>"
        self._render()

    def _render(self) -> None:
        self.status.setText("<br>".join(line for line in [*self._lines, self._split_line] if line))

    # -- the problem list -----------------------------------------------------------------
    def _fill(self, report: HealthReport) -> None:
        self.problems.clear()
        self._items_of = {}
        self.icons.cancel_all()
        by_kind: dict[str, list[Problem]] = {}
        for problem in report.problems:
            by_kind.setdefault(problem.kind, []).append(problem)
        groups = [*report.duplicate_groups, *report.near_duplicate_groups]
        for kind in KIND_TITLES:
            found = by_kind.get(kind, [])
            if not found:
                continue
            top = QTreeWidgetItem([f"{KIND_TITLES[kind]} ({len(found)})", KIND_HELP.get(kind, "")])
            top.setData(0, KindRole, kind)
            top.setToolTip(1, KIND_HELP.get(kind, ""))
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            self.problems.addTopLevelItem(top)
            if kind in GROUP_KINDS:
                self._fill_groups(top, kind, found, groups)
            elif kind in CLASS_KINDS:
                for problem in found:
                    self._class_item(top, problem)
            else:
                top.setData(FIX, FixRole, ("exclude", [Path(p.path) for p in found]))
                for problem in found:
                    self._file_item(top, problem.path, kind, problem.detail)
            top.setExpanded(top.childCount() <= 50)
        if report.sizes:
            s = report.sizes
            item = QTreeWidgetItem(
                [
                    "Image sizes",
                    f"{s.min_width}–{s.max_width} × {s.min_height}–{s.max_height} px (median "
                    f"{s.median_width}×{s.median_height}): image size {s.suggested_size} fits "
                    "most of them without enlarging.",
                ]
            )
            item.setData(0, KindRole, SIZES_KIND)
            item.setData(FIX, FixRole, ("image_size", s.suggested_size))
            self.problems.addTopLevelItem(item)
        for top in range(self.problems.topLevelItemCount()):
            self._request_icons(self.problems.topLevelItem(top))

    def _fill_groups(
        self,
        top: QTreeWidgetItem,
        kind: str,
        found: list[Problem],
        groups: list[list[str]],
    ) -> None:
        detail = {p.path: p.detail for p in found}
        for group in groups:
            if not detail.keys() & set(group):
                continue
            paths = [Path(p) for p in group]
            names = ", ".join(shown_name(str(p)) for p in paths[:3])
            names += "…" if len(paths) > 3 else ""
            node = QTreeWidgetItem([f"{len(paths)} alike: {names}", ""])
            node.setData(0, KindRole, kind)
            node.setData(0, GroupRole, paths)
            node.setToolTip(0, "\n".join(map(str, paths)))  # the whole group on hover
            node.setData(FIX, FixRole, ("keep_one", (paths, paths[0])))
            top.addChild(node)
            for path in paths:
                item = self._file_item(node, str(path), kind, detail.get(str(path), FIRST))
                item.setData(FIX, FixRole, ("keep_one", (paths, path)))
            node.setExpanded(True)

    def _file_item(
        self, parent: QTreeWidgetItem, path: str, kind: str, detail: str
    ) -> QTreeWidgetItem:
        item = QTreeWidgetItem([shown_name(path), detail])
        item.setData(0, PathRole, path)
        item.setData(0, KindRole, kind)
        item.setToolTip(0, path)
        item.setToolTip(1, detail)
        if kind not in ("empty", "missing"):
            item.setData(FIX, FixRole, ("exclude", [Path(path)]))
        parent.addChild(item)
        self._items_of.setdefault(path, []).append(item)
        return item

    def _class_item(self, parent: QTreeWidgetItem, problem: Problem) -> None:
        name = Path(problem.path).name
        item = QTreeWidgetItem([name, problem.detail])
        item.setData(0, PathRole, problem.path)
        item.setData(0, KindRole, problem.kind)
        item.setToolTip(0, problem.path)
        item.setToolTip(1, problem.detail)
        if problem.kind == "imbalance":
            item.setData(FIX, FixRole, ("class_weighting", None))
        elif problem.kind == "too_few_images":
            item.setData(FIX, FixRole, ("exclude_class", name))
        parent.addChild(item)

    def _request_icons(self, top: QTreeWidgetItem) -> None:
        if not top.isExpanded():
            return
        for item in _descendants(top):
            path = item.data(0, PathRole)
            if path and path in self._items_of and item.icon(0).isNull():
                self.icons.request(path)

    def _icon_loaded(self, path: str, image: QImage) -> None:
        if image.isNull():
            return
        icon = QIcon(fit_square(image, ICON))
        for item in self._items_of.get(path, []):
            item.setIcon(0, icon)

    # -- fixes ------------------------------------------------------------------------------
    def fix_text(self, item: QTreeWidgetItem) -> str:
        """What the fix column says for ``item`` given the project's current settings."""
        fix = item.data(FIX, FixRole)
        if not fix:
            return ""
        name, arg = fix
        config = self.model.config
        excluded = set(config.data.excluded_files)
        if name == "exclude":
            if set(arg) <= excluded:
                return "✓ Excluded (include again)"
            return "Exclude" if len(arg) == 1 else f"Exclude all {len(arg)}"
        if name == "keep_one":
            group, keep = arg
            if keep not in excluded and all(p in excluded for p in group if p != keep):
                return "✓ Kept only this" if item.data(0, PathRole) else "✓ Kept one"
            return "Keep only this" if item.data(0, PathRole) else "Keep the first only"
        if name == "exclude_class":
            if arg in config.data.excluded_classes:
                return "✓ Class excluded"
            return "Exclude class"
        if name == "class_weighting":
            if config.train.class_weighting != "none":
                return f"✓ Class weighting on ({config.train.class_weighting})"
            return "Turn on class weighting"
        if name == "image_size":
            if config.train.image_size == arg:
                return f"✓ Image size {arg}"
            return f"Use image size {arg}"
        return ""

    def _config_changed(self) -> None:
        """Only the settings a fix changes redraw the Fix column (a list can be long)."""
        config = self.model.config
        key = (
            tuple(config.data.excluded_files),
            tuple(config.data.excluded_classes),
            config.train.image_size,
            config.train.class_weighting,
        )
        if key != self._fix_key:
            self._fix_key = key
            self._show_fix_states()

    def _show_fix_states(self) -> None:
        link = self.palette().link().color()
        for item in _descendants(self.problems.invisibleRootItem()):
            text = self.fix_text(item)
            item.setText(FIX, text)
            item.setForeground(FIX, QBrush(QColor(40, 140, 60) if text[:1] == "✓" else link))
            if text:
                item.setToolTip(FIX, "Click to apply (Undo fix takes it back).")
        self.undo_button.setEnabled(bool(self.fixes.history))

    def _clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == FIX:
            self.apply_fix(item)

    def apply_fix(self, item: QTreeWidgetItem) -> None:
        """Do what ``item``'s fix column offers (a done exclusion is taken back)."""
        fix = item.data(FIX, FixRole)
        if not fix:
            return
        name, arg = fix
        if name == "exclude":
            done = set(arg) <= set(self.model.config.data.excluded_files)
            (self.fixes.include if done else self.fixes.exclude)(arg)
        elif name == "keep_one":
            self.fixes.keep_one(*arg)
        elif name == "exclude_class":
            self.fixes.exclude_class(arg)
        elif name == "class_weighting":
            self.fixes.class_weighting()
        elif name == "image_size":
            self.fixes.image_size(arg)
        self._show_fix_states()

    def undo(self) -> None:
        self.fixes.undo()
        self._show_fix_states()

    def find_items(self, kind: str) -> list[QTreeWidgetItem]:
        """The items of problem ``kind`` (``"sizes"`` for the size advice): group headings
        excluded, file items, duplicate groups and class items included."""
        return [
            item
            for item in _descendants(self.problems.invisibleRootItem())
            if (item.data(0, KindRole) == kind and item.parent() is not None)
            or (kind == SIZES_KIND and item.data(0, KindRole) == kind)
        ]

    def shown_problems(self) -> set[tuple[str, str]]:
        """``(path, kind)`` of every problem the list shows."""
        return {
            (item.data(0, PathRole), item.data(0, KindRole))
            for item in _descendants(self.problems.invisibleRootItem())
            if item.data(0, PathRole)
            and (item.data(0, KindRole) not in GROUP_KINDS or item.text(1) != FIRST)
        }


def shown_name(path: str) -> str:
    """A file as the problem list names it: its class folder and its name (the full path
    is on hover)."""
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def _descendants(root: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """Every item under ``root``, in the order the list shows them."""
    out: list[QTreeWidgetItem] = []
    stack = [root.child(i) for i in reversed(range(root.childCount()))]
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(item.child(i) for i in reversed(range(item.childCount())))
    return out
