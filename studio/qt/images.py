"""Turn decoded RGB arrays into Qt images (GUI side of the one decoder)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QImage, QPixmap

if TYPE_CHECKING:  # numpy loads after the window is shown
    import numpy as np


def to_image(rgb: np.ndarray) -> QImage:
    """An ``H x W x 3`` uint8 array as an image (copied, so the array may be freed)."""
    import numpy as np

    rgb = np.ascontiguousarray(rgb)
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    """An ``H x W x 3`` uint8 array as a pixmap (copied, so the array may be freed)."""
    return QPixmap.fromImage(to_image(rgb))


def thumbnail(path, size: int) -> np.ndarray:
    """Decode ``path`` with the one decoder and shrink it to fit ``size`` (worker threads)."""
    import numpy as np
    from PIL import Image

    from studio.engine.data.images import load_rgb

    image = Image.fromarray(load_rgb(path))
    image.thumbnail((size, size))
    return np.asarray(image)


def thumbnails(paths: list[str], size: int) -> list[np.ndarray | None]:
    """:func:`thumbnail` of each path, ``None`` for one that cannot be decoded (workers)."""
    from studio.engine.data.images import ImageError

    out: list[np.ndarray | None] = []
    for path in paths:
        try:
            out.append(thumbnail(path, size))
        except ImageError:
            out.append(None)
    return out


def to_rgb(image: QImage) -> np.ndarray:
    """A QImage (pasted, or a camera frame) as an ``H x W x 3`` uint8 array (copied)."""
    import numpy as np

    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=stride * height)
    return data.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()
