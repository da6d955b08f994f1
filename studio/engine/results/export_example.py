"""The ``predict_example.py`` written beside every export: classify an image without Studio.

It decodes with Studio's own decoder (its source copied in, so 16-bit, 32-bit and float images
are scaled exactly as in training, not clipped), resizes as Studio's validation does (OpenCV's
bilinear resize when cv2 is installed, else an equivalent numpy version, identical up to
rounding of a pixel value here and there), and carries on past an unreadable image with a
line for it. The packages it needs are :func:`requirements`, named in its docstring too.
"""

from __future__ import annotations

import inspect
from typing import Any

_COMMON = '''"""Classify images with this exported Studio model.

Usage: python predict_example.py IMAGE...
Needs: {requirements} (opencv-python-headless optional).
Prints one line per image: path, class, confidence; or path and the error for an image that
cannot be read (the others are still classified; the exit code is then 1).
"""

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
CARD = json.loads((HERE / "model_card.json").read_text(encoding="utf-8"))
SIZE = CARD["image_size"]
{decoder}

def load_rgb(path):
    """Decode as Studio does (its own code, above): EXIF orientation, transparency on grey,
    16-bit/32-bit/float samples scaled to 8 bits, RGB."""
    with Image.open(path) as image:
        image.load()
        return _to_rgb_array(ImageOps.exif_transpose(image))


def resize(rgb, size):
    """Bilinear resize with half-pixel centres to size x size (OpenCV INTER_LINEAR)."""
    try:
        import cv2

        return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)
    except ImportError:
        pass

    def axis(n_in):
        f = np.clip((np.arange(size) + 0.5) * (n_in / size) - 0.5, 0, n_in - 1)
        i0 = np.floor(f).astype(int)
        return i0, np.minimum(i0 + 1, n_in - 1), (f - i0).astype(np.float32)

    y0, y1, wy = axis(rgb.shape[0])
    x0, x1, wx = axis(rgb.shape[1])
    img = rgb.astype(np.float32)
    wx = wx[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    out = top * (1 - wy[:, None, None]) + bottom * wy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def pixels(path):
    """1 x 3 x SIZE x SIZE float32 RGB pixels in 0..255, as the model expects."""
    return resize(load_rgb(path), SIZE).transpose(2, 0, 1)[None].astype(np.float32)


def one_line(text):
    return str(text).replace("\\n", "\\\\n").replace("\\r", "\\\\r").replace("\\t", "\\\\t")


def report(path, logits):
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    best = int(probs.argmax())
    print(f"{one_line(path)}\\t{CARD['classes'][best]}\\t{probs[best]:.4f}")
'''

_TORCHSCRIPT = """
import warnings

import torch

warnings.filterwarnings("ignore", category=FutureWarning)  # "TorchScript is deprecated"

model = torch.jit.load(str(HERE / CARD["file"]), map_location="cpu").eval()


def logits(x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()[0]
"""

_ONNX = """
import onnxruntime

session = onnxruntime.InferenceSession(str(HERE / CARD["file"]), providers=["CPUExecutionProvider"])


def logits(x):
    return session.run(["logits"], {"pixels": x})[0][0]
"""

_STATE_DICT = '''
import torch
from safetensors.torch import load_file
from torch import nn

ARCH = CARD["architecture"]
{small_cnn}

def build():
    """The architecture with Studio's head: dropout + linear, one output per class."""
    if ARCH["torchvision_builder"] is None:
        return SmallCNN(len(CARD["classes"]), ARCH["dropout"])
    import torchvision

    net = torchvision.models.get_model(
        ARCH["torchvision_builder"], weights=None, **ARCH["builder_kwargs"]
    )
    *parents, leaf = ARCH["head"].split(".")
    parent = net.get_submodule(".".join(parents)) if parents else net
    old = getattr(parent, leaf)
    linears = [m for m in old.modules() if isinstance(m, nn.Linear)]
    classes = len(CARD["classes"])
    head = nn.Sequential(nn.Dropout(ARCH["dropout"]), nn.Linear(linears[-1].in_features, classes))
    setattr(parent, leaf, head)
    return net


model = build()
model.load_state_dict(load_file(str(HERE / CARD["file"])))
model.eval()
MEAN = torch.tensor(CARD["mean"]).view(1, 3, 1, 1) * 255.0
STD = torch.tensor(CARD["std"]).view(1, 3, 1, 1) * 255.0


def logits(x):
    with torch.no_grad():
        return model((torch.from_numpy(x) - MEAN) / STD).numpy()[0]
'''

_MAIN = """

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python predict_example.py IMAGE...")
    failed = 0
    for name in sys.argv[1:]:
        try:
            x = pixels(name)
        except Exception as exc:  # one unreadable image does not stop the others
            failed += 1
            print(f"{one_line(name)}\\terror: {one_line(exc)}")
            continue
        report(name, logits(x))
    if failed:
        sys.exit(1)
"""


def requirements(fmt: str, torchvision_builder: str | None) -> list[str]:
    """The packages a bundle's script needs, with the versions it was exported with."""
    from importlib.metadata import version

    names = ["numpy", "pillow"]
    if fmt == "onnx":
        names.append("onnxruntime")
    else:
        names.append("torch")
    if fmt == "state_dict":
        names.append("safetensors")
        if torchvision_builder is not None:
            names.append("torchvision")
    return [f"{name}=={version(name)}" for name in names]


def decoder_source() -> str:
    """Studio's decoder (``studio.engine.data.images``) as the bundle carries it: the very
    functions training decodes with, so the bundle cannot drift from Studio."""
    from studio.engine.data import images

    parts = [
        f"BACKGROUND = {images.BACKGROUND!r}",
        inspect.getsource(images._to_rgb_array),
        inspect.getsource(images._scale_to_uint8),
    ]
    return "\n\n" + "\n\n\n".join(part.strip() for part in parts) + "\n\n"


def example_script(card: dict[str, Any]) -> str:
    """The script's text for a bundle described by ``card`` (see :mod:`export`)."""
    fmt = card["format"]
    if fmt == "torchscript":
        body = _TORCHSCRIPT
    elif fmt == "onnx":
        body = _ONNX
    else:
        from studio.engine.models.factory import SmallCNN

        body = _STATE_DICT.replace("{small_cnn}", "\n\n" + inspect.getsource(SmallCNN))
    common = _COMMON.replace("{requirements}", ", ".join(card["requirements"]))
    return common.replace("{decoder}", decoder_source()) + body + _MAIN
