"""Pre-trained weights through torchvision's own weights API: metadata, cache, download.

Files live in the standard torch hub cache (``$TORCH_HOME/hub/checkpoints``), named as
torchvision names them, so weights downloaded by any other torchvision program are reused.
Every load passes ``weights_only=True`` explicitly, so no pickled code ever runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from studio.engine.control import StopToken
from studio.engine.models.catalog import ModelSpec
from studio.errors import StudioError
from studio.fileio import remove_stale_temps

CHUNK = 1 << 16
STALE_DOWNLOAD = 3600.0  # a partial download untouched for an hour was left by a killed one
HASH_PREFIX = re.compile(r"-([a-f0-9]*)\.")  # torch.hub's convention: name-<sha256 prefix>.pth


def default_weights(spec: ModelSpec) -> Any:
    """torchvision's default pre-trained weights enum member for ``spec``."""
    if spec.torchvision_name is None:
        raise StudioError(f"{spec.title} has no pre-trained weights: use --weights none.")
    import torchvision

    return torchvision.models.get_model_weights(spec.torchvision_name).DEFAULT


def cache_path(spec: ModelSpec) -> Path:
    """Where torch keeps the downloaded file for ``spec``'s default weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(default_weights(spec).url).name


def weights_state(spec: ModelSpec) -> str:
    """``cached``, ``downloadable`` (not on disk yet) or ``none`` (no pre-trained weights)."""
    if not spec.has_pretrained:
        return "none"
    return "cached" if cache_path(spec).is_file() else "downloadable"


def normalisation(spec: ModelSpec) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std the weights were trained with (ImageNet's for Studio's own models)."""
    if not spec.has_pretrained:
        return (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    transforms = default_weights(spec).transforms()
    return tuple(transforms.mean), tuple(transforms.std)


def load_imagenet(
    spec: ModelSpec,
    progress: Callable[[int, int], None] | None = None,
    token: StopToken | None = None,
) -> dict[str, torch.Tensor]:
    """The default weights' state dict, downloading them into the cache first if needed."""
    path = cache_path(spec)
    if not path.is_file():
        download(spec, progress, token)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise StudioError(
            f"The cached weights for {spec.title} were damaged and have been "
            f"removed; try again to download them afresh ({exc})."
        ) from exc


def download(
    spec: ModelSpec,
    progress: Callable[[int, int], None] | None = None,
    token: StopToken | None = None,
) -> Path:
    """Fetch ``spec``'s weights into the cache, verifying torchvision's hash; cancellable."""
    url = default_weights(spec).url
    target = cache_path(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent, target.name, older_than=STALE_DOWNLOAD, suffix=".partial")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(CHUNK):
                if token is not None and token.should_stop():
                    raise StudioError(f"Download of {spec.title} weights cancelled.")
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        expected = HASH_PREFIX.search(Path(url).name)
        if expected and not digest.hexdigest().startswith(expected.group(1)):
            raise StudioError(
                f"The download of {spec.title} weights is corrupt (checksum mismatch); try again."
            )
        os.replace(tmp, target)
        return target
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        raise StudioError(
            f"Could not download the ImageNet weights for {spec.title} (offline?). Connect to "
            f"the internet, copy the file to {target}, or load a weights file instead."
        ) from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
