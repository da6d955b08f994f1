"""The catalogue's numbers for display: parameters, GFLOPs, ImageNet top-1 and file size read
from torchvision's weights metadata, the catalogue's input size, and whether the weights are
on disk."""

from __future__ import annotations

from typing import Any

from studio.engine.models.catalog import CATALOG, ModelSpec
from studio.engine.models.weights import default_weights, weights_state


def model_info(spec: ModelSpec) -> dict[str, Any]:
    """The catalogue's numbers, read from torchvision's weights metadata."""
    info: dict[str, Any] = {
        "name": spec.name,
        "title": spec.title,
        "good_for": spec.good_for,
        "image_size": spec.default_image_size,
        "params_m": None,
        "gflops": None,
        "top1": None,
        "weights_mb": None,
        "weights": weights_state(spec),
    }
    if spec.has_pretrained:
        weights = default_weights(spec)
        meta = weights.meta
        info.update(
            params_m=round(meta["num_params"] / 1e6, 1),
            gflops=meta.get("_ops"),
            top1=meta["_metrics"]["ImageNet-1K"]["acc@1"],
            weights_mb=meta.get("_file_size"),
        )
    else:
        from studio.engine.models.factory import create_model

        model = create_model(spec.name, num_classes=10)
        info["params_m"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 2)
    return info


def catalogue() -> list[dict[str, Any]]:
    return [model_info(spec) for spec in CATALOG.values()]
