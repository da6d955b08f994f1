"""The facts about a dataset that the settings resolver follows: class counts, the sizes of a
sample of images (read from their headers, fast) and a few images' colours per class."""

from __future__ import annotations

from studio.engine.control import StopToken
from studio.engine.data.index import DatasetIndex
from studio.engine.training.resolve import DataFacts

SIZE_SAMPLE = 200  # headers read for the size statistics, spread evenly over the index


def data_facts(index: DatasetIndex, token: StopToken | None = None) -> DataFacts:
    """What :func:`studio.engine.training.resolve.resolve` needs about ``index`` (with the
    user's edits applied: classes renamed or left out). Deterministic: the window and the
    CLI derive the same settings from the same folders."""
    from studio.engine.augment.preview import class_colours
    from studio.engine.data.images import header_size

    classes = list(index.classes)
    counts = dict(index.counts)
    step = max(1, len(index) // SIZE_SAMPLE)
    sizes: list[tuple[int, int]] = []
    for path in index.paths[::step][:SIZE_SAMPLE]:
        if token is not None and token.should_stop():
            break
        if size := header_size(path):
            sizes.append(size)
    colours = class_colours(index.paths, index.labels, classes) if len(index) else None
    return DataFacts(class_counts=counts, image_sizes=tuple(sizes), colours=colours)
