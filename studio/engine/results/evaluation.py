"""Judge a finished run: load its best model, evaluate a split, predict new images.

Everything here reads the run folder only (``best.safetensors``, ``model.json``, ``config.json``,
``split.json``) and preprocesses and infers exactly as validation did: the one evaluation
preprocessing (:func:`~studio.engine.models.inference.eval_preprocessing`) after
:func:`images.load_rgb`, through the one inference loop
(:func:`~studio.engine.models.inference.infer`, autocast as in training, the run's batch
size). :func:`predict` and :func:`evaluate_split` share :func:`logits_for`, so the GUI,
``studio predict`` and the results agree image for image, and with the run's ``val_acc``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.config import ProjectConfig
from studio.config.io import load_run_config, read_path
from studio.engine.control import StopToken
from studio.engine.data.images import ImageError, is_image_file, load_rgb
from studio.engine.models.factory import create_model
from studio.engine.models.inference import eval_preprocessing, infer, model_normalisation
from studio.engine.models.state import load_checked
from studio.engine.results import test_seal
from studio.engine.results.metrics import classification_metrics
from studio.engine.runs import checkpoints, files
from studio.errors import StudioError
from studio.fileio import atomic_write_text

TEST_LOOKS = "test_looks.json"
BATCH = 64


@dataclasses.dataclass
class LoadedRun:
    """A run's best model on CPU in eval mode, with what it needs to preprocess images."""

    run_dir: Path
    model: torch.nn.Module
    classes: list[str]
    model_name: str
    image_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    config: ProjectConfig
    device: torch.device = dataclasses.field(default_factory=lambda: torch.device("cpu"))

    @functools.cached_property
    def preprocess(self) -> Any:
        """The one evaluation preprocessing for this run's model and image size."""
        return eval_preprocessing(self.model_name, self.image_size)

    def tensor(self, rgb: np.ndarray) -> torch.Tensor:
        """The validation preprocessing of one decoded image: resize, normalise, CHW."""
        return self.preprocess(image=rgb)["image"]


def load_run(run_dir: str | Path, device: str = "cpu") -> LoadedRun:
    """Rebuild the run's architecture and load ``best.safetensors`` onto
    ``device`` (``cpu`` by default, so numbers compare exactly; ``auto`` for speed)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise StudioError(f"Run folder not found: {run_dir}")
    best = run_dir / files.BEST
    if not best.is_file():
        raise StudioError(f"{run_dir} holds no trained model yet: no epoch completed?")
    meta = _read_json(run_dir / files.MODEL)
    config = _read_config(run_dir)
    classes, name, size = _model_facts(meta, run_dir / files.MODEL)
    model = create_model(name, len(classes), "none", config.model.dropout, image_size=size)
    load_checked(model, checkpoints.load_weights(run_dir, "best"), str(best))
    from studio.engine.device import pick_device

    where = pick_device(device)
    model.to(where).eval()
    mean, std = model_normalisation(name)
    return LoadedRun(run_dir, model, classes, name, size, mean, std, config, where)


def _model_facts(meta: Any, path: Path) -> tuple[list[str], str, int]:
    """The classes, architecture and image size ``model.json`` records, each checked: a
    tampered file gets one line, never a huge allocation or a traceback."""
    from studio.config.schema import TrainConfig
    from studio.engine.models.catalog import CATALOG

    if not isinstance(meta, dict):
        raise StudioError(f"{path} is not a table of model facts.")
    classes, name, size = meta.get("classes"), meta.get("model"), meta.get("image_size")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise StudioError(f"{path}: 'classes' must be a non-empty list of class names.")
    if name not in CATALOG:
        raise StudioError(f"{path}: unknown model {name!r}.")
    bounds = {type(m).__name__: m for m in TrainConfig.model_fields["image_size"].metadata}
    low, high = bounds["Ge"].ge, bounds["Le"].le
    if not isinstance(size, int) or isinstance(size, bool) or not low <= size <= high:
        raise StudioError(f"{path}: image_size must be {low}–{high} pixels (got {size!r}).")
    return classes, name, size


def _split_files(run_dir: Path, split: str) -> list[str]:
    """The file names ``split.json`` lists under ``split``, checked to be a list of strings."""
    path = run_dir / files.SPLIT
    data = _read_json(path)
    listed = data.get("files", {}) if isinstance(data, dict) else None
    listed = listed.get(split, []) if isinstance(listed, dict) else None
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        raise StudioError(f"{path} is damaged: expected the files of each split.")
    return [str(read_path(n, run_dir)) for n in listed]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudioError(f"{path.name} is missing from {path.parent}.") from None
    except (OSError, ValueError) as exc:
        raise StudioError(f"Cannot read {path}: {exc}") from None


def _read_config(run_dir: Path) -> ProjectConfig:
    if not (run_dir / files.CONFIG).is_file():
        return ProjectConfig()
    return load_run_config(run_dir)


# -- inference ----------------------------------------------------------------------------
def logits_for(
    run: LoadedRun,
    paths: Sequence[Path],
    token: StopToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, list[str | None]]:
    """Logits (``N x classes``, float32) and a decoding error (or ``None``) per path.

    Unreadable images get a row of NaN. The one inference path of this module: batches of
    the run's training batch size through :func:`infer`, as validation ran them.
    """
    out = np.full((len(paths), len(run.classes)), np.nan, dtype=np.float32)
    errors: list[str | None] = [None] * len(paths)
    size = max(1, run.config.train.batch_size)

    def batches():
        for start in range(0, len(paths), size):
            rows, tensors = [], []
            for i in range(start, min(start + size, len(paths))):
                try:
                    tensors.append(run.tensor(load_rgb(paths[i])))
                    rows.append(i)
                except ImageError as exc:
                    errors[i] = exc.detail
            if tensors:
                yield torch.stack(tensors), (rows, min(start + size, len(paths)))

    precision, done = run.config.train.mixed_precision, 0
    for logits, (rows, done) in infer(run.model, batches(), run.device, precision, token):
        out[rows] = logits.cpu().numpy()
        if progress is not None:
            progress(done, len(paths))
    if token is not None and token.should_stop():
        raise StudioError("Evaluation cancelled.")
    if progress is not None and done < len(paths):  # the last images were unreadable
        progress(len(paths), len(paths))
    return out, errors


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


@dataclasses.dataclass
class Prediction:
    """The top classes for one image (``error`` when it could not be read)."""

    path: Path
    top: list[tuple[str, float]]
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "predictions": [{"class": c, "confidence": p} for c, p in self.top],
            "error": self.error,
        }


def expand_images(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given, and the image files under each folder (sorted, recursive)."""
    out: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and is_image_file(p))
        elif path.exists():
            out.append(path)
        else:
            raise StudioError(f"No such file or folder: {path}")
    return out


def predict(
    run: str | Path | LoadedRun,
    paths: Sequence[str | Path],
    top_k: int = 3,
    device: str = "cpu",
) -> list[Prediction]:
    """Top-``top_k`` classes with confidences for each image, with the best checkpoint and
    the validation preprocessing. Shared by the Results panel and ``studio predict``."""
    loaded = run if isinstance(run, LoadedRun) else load_run(run, device)
    images = [Path(p) for p in paths]
    logits, errors = logits_for(loaded, images)
    probs = softmax(np.nan_to_num(logits))
    k = max(1, min(top_k, len(loaded.classes)))
    out = []
    for i, path in enumerate(images):
        if errors[i] is not None:
            out.append(Prediction(path, [], errors[i]))
            continue
        order = np.argsort(-probs[i], kind="stable")[:k]
        out.append(Prediction(path, [(loaded.classes[j], float(probs[i, j])) for j in order]))
    return out


# -- evaluation ---------------------------------------------------------------------------
def split_files(run: LoadedRun, split: str) -> tuple[list[Path], list[int]]:
    """The files of ``split`` as the run recorded them in ``split.json``, with their labels
    (the class of each file, found again from the run's data folders and edits)."""
    from studio.engine.data.index import Edits, scan_folders

    listed = _split_files(run.run_dir, split)
    if not listed:
        return [], []
    index = Edits.of(run.config.data).apply(scan_folders(run.config.data.sources))
    label_of = {
        str(p): index.classes[lab] for p, lab in zip(index.paths, index.labels, strict=True)
    }
    number = {c: i for i, c in enumerate(run.classes)}
    paths, labels = [], []
    for name in listed:
        cls = label_of.get(name)
        if cls in number:
            paths.append(Path(name))
            labels.append(number[cls])
    return paths, labels


def evaluate_split(
    run: str | Path | LoadedRun,
    split: str = "val",
    token: StopToken | None = None,
    progress: Callable[[int, int], None] | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """Metrics, confusion matrix and per-image losses of ``split`` (``val`` or ``test``).

    Saved under ``results.json[split]`` in the run folder. The test split is looked at only
    through :func:`evaluate_test_split`, which counts the looks.
    """
    loaded = run if isinstance(run, LoadedRun) else load_run(run)
    started = time.perf_counter()
    paths, labels = split_files(loaded, split)
    if not paths:
        raise StudioError(f"This run has no {_split_name(split)} images to evaluate.")
    logits, errors = logits_for(loaded, paths, token, progress)
    ok = [i for i, e in enumerate(errors) if e is None]
    if not ok:
        raise StudioError(f"None of the {_split_name(split)} images can be read any more.")
    logits, y_true = logits[ok], np.asarray([labels[i] for i in ok])
    paths = [paths[i] for i in ok]
    probs = softmax(logits)
    y_pred = probs.argmax(axis=1)
    losses = -np.log(np.clip(probs[np.arange(len(y_true)), y_true], 1e-12, 1.0))
    result = classification_metrics(y_true, y_pred, loaded.classes, probs)
    result.update(
        split=split,
        loss=float(losses.mean()),
        unreadable=len(errors) - len(ok),
        seconds=time.perf_counter() - started,
        images=[
            {
                "path": str(paths[i]),
                "true": loaded.classes[y_true[i]],
                "predicted": loaded.classes[y_pred[i]],
                "confidence": float(probs[i, y_pred[i]]),
                "loss": float(losses[i]),
            }
            for i in np.argsort(-losses, kind="stable")
        ],
    )
    if save:
        save_results(loaded.run_dir, {split: result})
    return result


def _split_name(split: str) -> str:
    return {"val": "validation", "test": "test"}.get(split, split)


def top_losses(result: dict[str, Any], wrong_only: bool = True) -> list[dict[str, Any]]:
    """The images of an evaluation, worst first (misclassified ones only by default)."""
    images = result.get("images", [])
    return [im for im in images if not wrong_only or im["true"] != im["predicted"]]


def cell_images(result: dict[str, Any], true: str, predicted: str) -> list[dict[str, Any]]:
    """The images in one confusion-matrix cell (true row, predicted column), worst first."""
    return [
        im for im in result.get("images", []) if im["true"] == true and im["predicted"] == predicted
    ]


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """``results.json`` of a run, or ``{}`` when it has none yet."""
    path = Path(run_dir) / files.RESULTS
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_results(run_dir: Path, update: dict[str, Any]) -> None:
    """Merge ``update`` into ``results.json`` (atomic write); one line when the run folder
    cannot be written (read-only media: evaluate with ``save=False`` there)."""
    data = {**load_results(run_dir), **update}
    path = Path(run_dir) / files.RESULTS
    try:
        atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False))
    except OSError as exc:
        raise StudioError(f"Cannot save {path}: {exc.strerror or exc}") from None


def looks_at_test(run_dir: str | Path) -> int:
    """How many times the test split's results have been looked at."""
    path = Path(run_dir) / TEST_LOOKS
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("looks", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def evaluate_test_split(
    run: str | Path | LoadedRun,
    token: StopToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], int]:
    """The held-out test results, computed once per run and cached; every call counts as
    one more look (``test_looks.json``, and the project's ``test-seal.json``). Returns the
    results and the run's look count."""
    run_dir = run.run_dir if isinstance(run, LoadedRun) else Path(run)
    cached = load_results(run_dir).get("test")
    result = cached if cached else evaluate_split(run, "test", token, progress)
    looks = looks_at_test(run_dir) + 1
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:  # a look that cannot be counted is not shown
        atomic_write_text(run_dir / TEST_LOOKS, json.dumps({"looks": looks, "last": stamp}))
    except OSError as exc:
        raise StudioError(
            f"Cannot count this look at the test set in {run_dir} ({exc.strerror or exc}): "
            "the test results are shown only where each look is recorded"
        ) from None
    config = run.config if isinstance(run, LoadedRun) else _read_config(run_dir)
    test_seal.record_look(run_dir, config)
    return result, looks
