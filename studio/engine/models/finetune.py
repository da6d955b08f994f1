"""Fine-tuning strategies: what is frozen, what learns, and how fast.

``linear`` trains only the new head; ``partial`` also the last ``unfreeze`` backbone stages;
``full`` trains everything, the pre-trained backbone at ``lr x backbone_lr_factor``;
``scratch`` trains everything at full speed from random weights.
"""

from __future__ import annotations

from torch import nn

from studio.engine.models.factory import head_module
from studio.errors import StudioError

NEEDS_PRETRAINED = {"linear", "partial"}


def stages(model: nn.Module) -> list[nn.Module]:
    """The backbone's stages, input to output (the head excluded)."""
    head = head_module(model)
    if hasattr(model, "layer4"):  # ResNet
        stem = nn.ModuleList([model.conv1, model.bn1])
        return [stem, model.layer1, model.layer2, model.layer3, model.layer4]
    if hasattr(model, "trunk_output"):  # RegNet
        return [model.stem, *model.trunk_output.children()]
    if hasattr(model, "encoder") and hasattr(model, "conv_proj"):  # ViT
        return [model.conv_proj, *model.encoder.layers.children(), model.encoder.ln]
    features = getattr(model, "features", None)
    if features is None:
        raise StudioError(f"{type(model).__name__} has no known stages to freeze.")
    children = list(features.children())
    if any(isinstance(c, nn.MaxPool2d) for c in children):  # VGG and the small CNN: blocks
        blocks, current = [], []
        for child in children:
            current.append(child)
            if isinstance(child, nn.MaxPool2d | nn.AdaptiveAvgPool2d):
                blocks.append(nn.Sequential(*current))
                current = []
        if current:
            blocks.append(nn.Sequential(*current))
        return [b for b in blocks if b is not head]
    return children


def apply_strategy(
    model: nn.Module,
    strategy: str,
    unfreeze: int,
    lr: float,
    backbone_lr_factor: float,
    pretrained: bool,
) -> list[dict]:
    """Freeze what ``strategy`` freezes; return optimizer parameter groups."""
    if strategy in NEEDS_PRETRAINED and not pretrained:
        raise StudioError(
            f"The '{strategy}' strategy fine-tunes pre-trained weights: choose "
            "ImageNet weights or a weights file, or the 'scratch' strategy."
        )
    head_params = list(head_module(model).parameters())
    head_ids = {id(p) for p in head_params}
    backbone = [p for p in model.parameters() if id(p) not in head_ids]
    if strategy == "linear":
        trainable_backbone: list = []
    elif strategy == "partial":
        chosen = stages(model)[-unfreeze:]
        trainable_backbone = [p for stage in chosen for p in stage.parameters()]
    else:
        trainable_backbone = backbone
    trainable_ids = {id(p) for p in trainable_backbone}
    for p in backbone:
        p.requires_grad_(id(p) in trainable_ids)
    for p in head_params:
        p.requires_grad_(True)
    factor = backbone_lr_factor if pretrained and strategy != "scratch" else 1.0
    groups = [{"params": head_params, "lr": lr, "name": "head"}]
    if trainable_backbone:
        groups.append({"params": trainable_backbone, "lr": lr * factor, "name": "backbone"})
    return groups


def set_train_mode(model: nn.Module) -> None:
    """``model.train()``, except that BatchNorm layers of a frozen backbone stay in eval mode
    (their running statistics were learnt on millions of images; a few hundred would skew them)."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            params = list(module.parameters())
            if params and not any(p.requires_grad for p in params):
                module.eval()


def trainable_summary(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad), total
