"""Reliability of weights files: exact fit checked before use, one line for every refusal,
never pickled code; and architectures refuse image sizes they cannot take."""

from __future__ import annotations

import pytest
import torch
import torchvision
from safetensors.torch import save_file

from studio.cli.main import main
from studio.engine.models.factory import create_model
from studio.errors import StudioError


class Payload:
    """Pickled with the weights: loading it would run code."""

    def __reduce__(self):
        return (print, ("pickled code ran",))


@pytest.fixture(scope="module")
def resnet18_state() -> dict[str, torch.Tensor]:
    return torchvision.models.resnet18(weights=None).state_dict()


def one_line(message: str) -> str:
    assert "\n" not in message and "weights_only" not in message, message
    return message


def test_weights_of_the_same_architecture_load_with_any_head(resnet18_state, tmp_path):
    path = tmp_path / "mine.pth"
    torch.save(resnet18_state, path)
    model = create_model("resnet18", 3, str(path))
    assert torch.equal(model.conv1.weight, resnet18_state["conv1.weight"])


def test_weights_of_a_bigger_architecture_are_refused(tmp_path):
    path = tmp_path / "resnet34.safetensors"
    save_file(torchvision.models.resnet34(weights=None).state_dict(), str(path))
    with pytest.raises(StudioError) as info:
        create_model("resnet18", 3, str(path))
    line = one_line(str(info.value))
    assert "does not fit this architecture" in line and "unknown (layer1.2." in line


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s.pop("layer4.1.bn2.weight"), "1 tensors missing (layer4.1.bn2.weight)"),
        (lambda s: s.update({"conv1.weight": torch.zeros(64, 3, 3, 3)}), "has shape [64, 3, 3, 3]"),
        (lambda s: s.update({"conv1.weight": s["conv1.weight"].long()}), "conv1.weight is int64"),
        (lambda s: s["bn1.weight"].__setitem__(0, float("nan")), "NaN or infinite"),
    ],
)
def test_a_weights_file_that_does_not_fit_exactly_is_one_line(
    resnet18_state, tmp_path, change, words
):
    state = {k: v.clone() for k, v in resnet18_state.items()}
    change(state)
    path = tmp_path / "w.pth"
    torch.save(state, path)
    with pytest.raises(StudioError) as info:
        create_model("resnet18", 3, str(path))
    assert words in one_line(str(info.value))


def test_a_truncated_weights_file_is_one_line(resnet18_state, tmp_path):
    path = tmp_path / "w.pth"
    torch.save(resnet18_state, path)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(StudioError, match="damaged or truncated") as info:
        create_model("resnet18", 3, str(path))
    one_line(str(info.value))


def test_a_pickled_weights_file_is_refused_in_one_line_of_ours(tmp_path, dataset, capsys):
    path = tmp_path / "evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "x": Payload()}, path)
    args = ["train", "--data", str(dataset), "--model", "resnet18", "--weights", str(path)]
    assert main([*args, "--image-size", "32", "--quiet", "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert "pickled code ran" not in captured.out + captured.err
    line = one_line(captured.err.strip())
    assert "never runs pickled code" in line and "Traceback" not in captured.err


@pytest.mark.parametrize("name", ["vgg11_bn", "vgg16_bn", "convnext_tiny"])
def test_an_image_size_too_small_for_the_architecture_is_one_line(name):
    with pytest.raises(StudioError, match="needs images of at least 32 px") as info:
        create_model(name, 3, "none", image_size=16)
    assert "set the image size to 32" in one_line(str(info.value))
