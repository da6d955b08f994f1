"""The health check's problem kinds in plain words (a light module: the window imports it
before numpy and Pillow load)."""

from __future__ import annotations

KIND_TITLES = {  # plain-words headings, in reading order
    "empty": "Empty files",
    "truncated": "Truncated images",
    "not_an_image": "Files that are not images",
    "decompression_bomb": "Images too large to open (decompression bombs)",
    "unsupported": "Unsupported picture formats",
    "unreadable": "Unreadable files",
    "missing": "Vanished files",
    "duplicate": "Duplicate images",
    "conflicting_labels": "Same image in several classes",
    "leakage": "Same image in several splits",
    "near_duplicate": "Near-duplicate images",
    "empty_class": "Empty classes",
    "too_few_images": "Classes too small to split",
    "imbalance": "Unbalanced classes",
    "single_class": "Only one class",
}

KIND_HELP = {  # what each kind means for training, and what to do
    "empty": "Zero-byte files: left out of training.",
    "truncated": "The file ends early: left out of training. Re-export or exclude it.",
    "not_an_image": "Named like a picture but holding something else: left out.",
    "decompression_bomb": "Claims too many pixels to decode safely: left out.",
    "unsupported": "A picture format Studio cannot read (HEIC…): convert it to JPEG/PNG.",
    "unreadable": "Cannot be opened: left out of training.",
    "missing": "Gone since the scan: rescan the folders.",
    "duplicate": "The same picture twice in a class: it counts double. Keep one.",
    "conflicting_labels": "One picture with two labels teaches the model both: keep the right one.",
    "leakage": "The same picture in training and validation flatters validation accuracy.",
    "near_duplicate": "Almost the same picture: it may land in training and validation. Keep one.",
    "empty_class": "A class folder without images: add some or ignore it.",
    "too_few_images": "A class needs at least one image to train and one to validate on.",
    "imbalance": "The model will favour the big classes: add images or weight the classes.",
    "single_class": "A classifier needs at least two classes.",
}
