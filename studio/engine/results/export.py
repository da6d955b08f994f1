"""Export a run's best model as a self-describing, verified bundle that predicts the same.

A bundle folder holds the model file (TorchScript ``model.pt``, ONNX ``model.onnx`` with a
dynamic batch axis, or a safetensors state dict ``model.safetensors``), ``model_card.json``
and ``predict_example.py``. TorchScript and ONNX models take resized RGB pixels (0..255,
``N x 3 x S x S`` float32) and normalise inside, so the mean/std cannot get lost. Before the
bundle appears, the exported file is reloaded (onnxruntime for ONNX) and its outputs are
compared with the in-app model on validation images; a disagreement refuses the export.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.engine.augment import pipeline as augment
from studio.engine.data.images import ImageError, load_rgb
from studio.engine.models.catalog import get_spec
from studio.engine.models.factory import create_model
from studio.engine.results.evaluation import (
    LoadedRun,
    load_results,
    load_run,
    logits_for,
    split_files,
)
from studio.engine.results.export_example import example_script, requirements
from studio.engine.runs import files
from studio.errors import StudioError
from studio.fileio import atomic_write_bytes, atomic_write_text

FORMATS = {"torchscript": "model.pt", "onnx": "model.onnx", "state_dict": "model.safetensors"}
SAMPLE = 32  # validation images compared between the app and the export
TOLERANCE = 1e-3  # largest allowed difference of any logit


class VerificationFailed(StudioError):
    """The reloaded export does not predict what the app predicts."""


class Preprocessed(nn.Module):
    """The model with its normalisation inside: input is resized RGB pixels in 0..255."""

    def __init__(self, model: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255.0)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model((pixels - self.mean) / self.std)


@dataclasses.dataclass
class ExportReport:
    """What an export wrote and how well the reloaded file matched the app."""

    out: Path
    format: str
    max_abs_diff: float
    agreement: float
    images: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "out": str(self.out)}


def export(
    run_dir: str | Path,
    fmt: str,
    out: str | Path,
    sample: int = SAMPLE,
    progress: Callable[[str], None] | None = None,
) -> ExportReport:
    """Write a verified bundle for ``run_dir``'s best model into the folder ``out``.

    Everything is written into a temporary folder beside ``out`` and renamed into place
    only after verification, so a failure leaves nothing half written.
    """
    started = time.perf_counter()
    if fmt not in FORMATS:
        raise StudioError(f"Unknown export format '{fmt}': choose {', '.join(FORMATS)}.")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StudioError(f"{out} already exists: choose a new folder for the export.")
    if fmt == "onnx":
        _require_onnx()
    say = progress or (lambda _text: None)
    run = load_run(run_dir)
    say("Writing the model file…")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise StudioError(f"Cannot write to {out.parent}: {exc.strerror or exc}") from None
    try:
        model_file = tmp / FORMATS[fmt]
        _write_model(run, fmt, model_file)
        say("Verifying the export against the app…")
        images = sample_images(run, sample)
        diff, agreement = compare(run, fmt, model_file, images)
        _refuse_unless_same(diff, agreement)
        report = ExportReport(out, fmt, diff, agreement, len(images), time.perf_counter() - started)
        card = model_card(run, fmt, report)
        atomic_write_text(tmp / "model_card.json", json.dumps(card, indent=2, ensure_ascii=False))
        atomic_write_text(tmp / "predict_example.py", example_script(card))
        atomic_write_text(tmp / "requirements.txt", "\n".join(card["requirements"]) + "\n")
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StudioError(f"Cannot write the export to {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise StudioError(
            "ONNX export needs the optional packages onnx and onnxruntime: "
            "install them with `uv sync --extra onnx` (or pip install onnx onnxruntime)."
        ) from None


def _wrapped(run: LoadedRun) -> Preprocessed:
    return Preprocessed(run.model, run.mean, run.std).eval()


def _write_model(run: LoadedRun, fmt: str, path: Path) -> None:
    example = torch.zeros(2, 3, run.image_size, run.image_size)
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # TorchScript and the TorchScript ONNX path say deprecated
        warnings.simplefilter("ignore")
        if fmt == "torchscript":
            with torch.no_grad():
                traced = torch.jit.trace(_wrapped(run), example)
            torch.jit.save(traced, buffer)
        elif fmt == "onnx":
            torch.onnx.export(
                _wrapped(run),
                (example,),
                buffer,
                dynamo=False,
                input_names=["pixels"],
                output_names=["logits"],
                dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
            )
        else:
            from safetensors.torch import save

            state = {k: v.detach().contiguous() for k, v in run.model.state_dict().items()}
            buffer.write(save(state, metadata={"classes": json.dumps(run.classes)}))
    atomic_write_bytes(path, buffer.getvalue())


@dataclasses.dataclass
class Sample:
    """The images an export is verified on: their files, and their pixels resized as the
    evaluation preprocessing resizes them (what the exported model takes)."""

    paths: list[Path]
    pixels: np.ndarray  # N x 3 x S x S float32 in 0..255

    def __len__(self) -> int:
        return len(self.paths)


def sample_images(run: LoadedRun, count: int = SAMPLE) -> Sample:
    """Up to ``count`` readable validation images (training ones if there are none)."""
    paths, _ = split_files(run, "val")
    if not paths:
        paths, _ = split_files(run, "train")
    chosen, images = [], []
    for path in paths:
        if len(images) >= count:
            break
        try:
            images.append(augment.resized(load_rgb(path), run.image_size))
        except ImageError:
            continue
        chosen.append(path)
    if not images:
        raise StudioError("No image of this run can be read to verify the export against.")
    return Sample(chosen, np.stack(images).transpose(0, 3, 1, 2).astype(np.float32))


def app_logits(run: LoadedRun, sample: Sample) -> np.ndarray:
    """The in-app model on these files, as evaluation sees them (:func:`logits_for`: the one
    preprocessing and inference loop)."""
    return logits_for(run, sample.paths)[0]


def exported_logits(run: LoadedRun, fmt: str, path: Path, sample: Sample) -> np.ndarray:
    """Reload the exported file as a user would and run it on the sample's resized pixels."""
    pixels = sample.pixels
    try:
        if fmt == "onnx":
            import onnxruntime as ort

            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            return np.asarray(session.run(["logits"], {"pixels": pixels})[0], np.float32)
        if fmt == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = torch.jit.load(str(path), map_location="cpu")
        else:
            from safetensors.torch import load_file

            bare = create_model(
                run.model_name,
                len(run.classes),
                "none",
                run.config.model.dropout,
                image_size=run.image_size,
            )
            bare.load_state_dict(load_file(str(path)))
            loaded = Preprocessed(bare, run.mean, run.std)
        loaded.eval()
        with torch.no_grad():
            return loaded(torch.from_numpy(pixels)).float().numpy()
    except StudioError:
        raise
    except Exception as exc:
        raise StudioError(f"The exported file cannot be reloaded: {exc}") from None


def compare(run: LoadedRun, fmt: str, path: Path, sample: Sample) -> tuple[float, float]:
    """Max absolute logit difference and top-1 agreement between the app and the export."""
    ours = app_logits(run, sample)
    theirs = exported_logits(run, fmt, path, sample)
    if theirs.shape != ours.shape:
        return float("inf"), 0.0
    diff = float(np.abs(ours - theirs).max())
    agreement = float((ours.argmax(1) == theirs.argmax(1)).mean())
    return diff, agreement


def _refuse_unless_same(diff: float, agreement: float) -> None:
    if not (diff <= TOLERANCE and agreement == 1.0):
        raise VerificationFailed(
            f"Export refused: the exported model disagrees with the app (max difference "
            f"{diff:.3g}, top-1 agreement {agreement:.1%})."
        )


def verify_bundle(run_dir: str | Path, bundle: str | Path, sample: int = SAMPLE) -> ExportReport:
    """Check an existing bundle against its run again; raises when they disagree."""
    started = time.perf_counter()
    bundle = Path(bundle)
    try:
        card = json.loads((bundle / "model_card.json").read_text(encoding="utf-8"))
        fmt = str(card["format"])
    except (OSError, ValueError, KeyError, TypeError):
        raise StudioError(
            f"{bundle} is not a Studio export (no readable model_card.json)."
        ) from None
    run = load_run(run_dir)
    images = sample_images(run, sample)
    diff, agreement = compare(run, fmt, bundle / FORMATS[fmt], images)
    _refuse_unless_same(diff, agreement)
    return ExportReport(bundle, fmt, diff, agreement, len(images), time.perf_counter() - started)


def _config_hash(run_dir: Path) -> str | None:
    try:
        return hashlib.sha256((run_dir / files.CONFIG).read_bytes()).hexdigest()
    except OSError:
        return None


def _metrics(run_dir: Path) -> dict[str, Any]:
    results = load_results(run_dir)
    metrics: dict[str, Any] = {}
    for split in ("val", "test"):
        if split in results:
            r = results[split]
            metrics[split] = {
                "accuracy": r.get("accuracy"),
                "macro_f1": r.get("macro", {}).get("f1"),
                "images": r.get("count"),
            }
    if not metrics:
        try:
            from studio.engine.runs.eventlog import read_events

            finished = [
                e for e in read_events(run_dir / files.EVENTS) if e["event"] == "run_finished"
            ]
            if finished:
                metrics["val"] = {"accuracy": finished[-1].get("best_val_acc")}
        except (OSError, ValueError, KeyError):
            pass
    return metrics


def model_card(run: LoadedRun, fmt: str, report: ExportReport) -> dict[str, Any]:
    """Everything needed to use the model elsewhere, as plain JSON."""
    spec = get_spec(run.model_name)
    inside = fmt != "state_dict"
    size = run.image_size
    return {
        "format": fmt,
        "file": FORMATS[fmt],
        "classes": run.classes,
        "architecture": {
            "name": run.model_name,
            "title": spec.title,
            "torchvision_builder": spec.torchvision_name,
            "head": getattr(run.model, "studio_head", "head"),
            "dropout": run.config.model.dropout,
            "builder_kwargs": {"image_size": size}
            if spec.fixed_size and size != spec.fixed_size
            else {},
        },
        "weights_origin": {
            "start": run.config.model.weights,
            "strategy": run.config.model.strategy,
            "trained_epochs": run.config.train.epochs,
        },
        "input": {
            "name": "pixels",
            "shape": ["batch", 3, size, size],
            "dtype": "float32",
            "channels": "RGB",
            "range": "0..255 (resized pixels, not normalised)" if inside else "normalised",
        },
        "output": {"name": "logits", "shape": ["batch", len(run.classes)], "softmax": True},
        "image_size": size,
        "mean": list(run.mean),
        "std": list(run.std),
        "requirements": requirements(fmt, spec.torchvision_name),
        "preprocessing": {
            "decoder": "load_rgb in predict_example.py: Studio's own (studio.engine.data.images)",
            "decode": "RGB, EXIF orientation applied, transparency composited on grey 128, "
            "16-bit, 32-bit and float samples scaled (not clipped) to 0..255",
            "resize": f"stretch to {size}x{size} (no crop, aspect ratio not kept)",
            "interpolation": "bilinear, half-pixel centres (OpenCV INTER_LINEAR), uint8 result",
            "normalisation_inside_model": inside,
            "normalise": "(pixel / 255 - mean) / std, per channel",
        },
        "training_config_sha256": _config_hash(run.run_dir),
        "metrics": _metrics(run.run_dir),
        "verification": {
            "max_abs_diff": report.max_abs_diff,
            "top1_agreement": report.agreement,
            "images": report.images,
            "tolerance": TOLERANCE,
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "exported_by": "Studio",
    }
