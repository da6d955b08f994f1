"""Thumbnails for the dataset grid: decoded off the GUI thread, only when asked for (the view
asks only for visible items), newest request first, kept in a bounded LRU cache in memory and
in an on-disk cache outside the user's folders (``$STUDIO_HOME/thumbnails`` or the platform
cache folder)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from studio.qt.tasks import TaskRunner

THUMB = 96
MEMORY_ITEMS = 1500  # about 40 MB of 96-pixel thumbnails
MAX_PENDING = 400  # requests beyond this (scrolled past) are dropped, oldest first


def cache_dir() -> Path:
    """``$STUDIO_HOME/thumbnails``, else the platform's cache folder."""
    home = os.environ.get("STUDIO_HOME")
    if home:
        return Path(home) / "thumbnails"
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(base) / "thumbnails"


class LruCache:
    """A bounded mapping that forgets the least recently used entry."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, QImage | QPixmap] = OrderedDict()

    def get(self, key: str) -> QImage | QPixmap | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, value: QImage | QPixmap) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()


class ThumbnailLoader(QObject):
    """``request(path)`` queues a decode; ``loaded(path, image)`` (GUI thread) delivers a
    QImage (null when the file cannot be decoded). One worker at a time, newest first."""

    loaded = Signal(str, QImage)
    _ready = Signal(str, QImage)

    def __init__(
        self, tasks: TaskRunner, size: int = THUMB, disk: Path | None = None, parent=None
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.size = size
        self.disk = disk if disk is not None else cache_dir()
        self._lock = threading.Lock()
        self._pending: deque[str] = deque()
        self._queued: set[str] = set()
        self._running = False
        self._stop = threading.Event()
        self._ready.connect(self._deliver)

    def request(self, path: str) -> None:
        with self._lock:
            if path in self._queued:
                return
            self._pending.append(path)
            self._queued.add(path)
            while len(self._pending) > MAX_PENDING:
                self._queued.discard(self._pending.popleft())
        self._ensure_worker()

    def cancel_all(self) -> None:
        with self._lock:
            self._pending.clear()
            self._queued.clear()

    def _ensure_worker(self) -> None:
        if self._running:
            return
        self._running = True
        self._stop.clear()
        self.tasks.start(self._work, self._worker_done, self._worker_done, stop=self._stop.set)

    def _worker_done(self, _result: object = None) -> None:
        self._running = False
        if self._pending and not self._stop.is_set():
            self._ensure_worker()

    def _work(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._pending:
                    return
                path = self._pending.pop()  # newest first: what the user looks at now
                self._queued.discard(path)
            self._ready.emit(path, self._load(path))

    @Slot(str, QImage)
    def _deliver(self, path: str, image: QImage) -> None:
        self.loaded.emit(path, image)

    def _load(self, path: str) -> QImage:
        """On the worker thread: the disk cache, else the one decoder at reduced size."""
        try:
            info = os.stat(path)
        except OSError:
            return QImage()
        key = f"{path}|{info.st_mtime_ns}|{info.st_size}|{self.size}".encode()
        cached = self.disk / f"{hashlib.blake2b(key, digest_size=16).hexdigest()}.png"
        image = QImage(str(cached)) if cached.is_file() else QImage()
        if not image.isNull():
            return image
        try:
            data = _decode_thumbnail(Path(path), self.size)
        except Exception:
            return QImage()
        image = QImage.fromData(data, "PNG")
        try:
            from studio.fileio import atomic_write_bytes

            atomic_write_bytes(cached, data)
        except OSError:
            pass  # a read-only cache only costs speed
        return image


def _decode_thumbnail(path: Path, size: int) -> bytes:
    """PNG bytes of ``path`` shrunk to fit ``size`` (JPEGs decoded at reduced scale)."""
    import io

    from PIL import Image

    from studio.engine.data.images import load_rgb

    image = Image.fromarray(load_rgb(path, max_side=size))
    image.thumbnail((size, size))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
