"""The training engine: torch, torchvision and albumentations live here, never Qt.

Submodules are imported on demand so that importing ``studio.engine`` stays cheap.
"""
