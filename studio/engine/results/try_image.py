"""Trying the model on one picture: its top classes and the Grad-CAM of the best one.

The Try tab calls :func:`try_image` for dropped files, pasted pictures and camera frames,
through the one preprocessing and inference loop of :mod:`studio.engine.models.inference`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from studio.engine.augment.pipeline import resized
from studio.engine.models.inference import infer
from studio.engine.results.evaluation import LoadedRun, softmax
from studio.engine.results.gradcam import grad_cam_rgb, overlay, supports_gradcam


@dataclasses.dataclass(frozen=True)
class Tried:
    """The top classes with confidences, the image as the model saw it, and the Grad-CAM
    overlay of the predicted class (``None`` with ``note`` saying why)."""

    top: list[tuple[str, float]]
    view: np.ndarray
    cam: np.ndarray | None
    note: str = ""


def try_image(run: LoadedRun, rgb: np.ndarray, top_k: int = 3, cam: bool = True) -> Tried:
    """Classify a decoded uint8 RGB image with ``run``'s best model."""
    batch = [(run.tensor(rgb).unsqueeze(0), None)]
    logits = next(infer(run.model, batch, run.device, run.config.train.mixed_precision))[0]
    probs = softmax(np.nan_to_num(logits.cpu().numpy()))[0]
    order = np.argsort(-probs, kind="stable")[: max(1, min(top_k, len(run.classes)))]
    top = [(run.classes[j], float(probs[j])) for j in order]
    if not cam or not supports_gradcam(run.model_name):
        note = "" if not cam else "Grad-CAM needs a CNN backbone (not a vision transformer)."
        return Tried(top, resized(rgb, run.image_size), None, note)
    view, heat, _ = grad_cam_rgb(run, rgb, int(order[0]))
    return Tried(top, view, overlay(view, heat))
