"""The words a learner meets in Studio, explained in plain words (Help → Glossary).

``TERMS`` maps a key to its entry; ``FIELD_TERMS`` names the entry of each setting, so every
knob's tooltip can point to it. Entries link to each other with ``[[key]]``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    title: str
    text: str


TERMS: dict[str, Term] = {
    "weights": Term(
        "Weights",
        "The numbers inside a neural network that training adjusts. A model with millions of "
        'weights can represent a complicated rule ("this is a cat"); at the start they are '
        "random or copied from a [[transfer_learning|pre-trained]] model. Studio saves the "
        "best epoch's weights as <code>best.safetensors</code> in the run folder.",
    ),
    "loss": Term(
        "Loss",
        "One number that says how wrong the model's predictions are: low when it is confident "
        "and right, high when it is confident and wrong. Training changes the [[weights]] to "
        "make the training loss smaller. Watch the <i>validation</i> loss too: when it rises "
        "while the training loss keeps falling, the model is [[overfitting]].",
    ),
    "learning_rate": Term(
        "Learning rate",
        "How big a step each update takes. Too high and the [[loss]] jumps around or becomes "
        "NaN; too low and training crawls. Typical values: 1e-3 for AdamW from scratch, "
        "1e-4 to 1e-3 for [[fine_tuning]]. The learning-rate finder (Training settings) sweeps "
        "it and suggests one. A [[lr_schedule|schedule]] changes it as training goes on.",
    ),
    "epoch": Term(
        "Epoch",
        "One pass over all the training images. Each epoch Studio measures the model on the "
        "[[validation]] images and draws one point per curve. More epochs learn more, until "
        "the model starts [[overfitting]]; [[early_stopping]] ends training at that point.",
    ),
    "batch": Term(
        "Batch",
        "The handful of images the model looks at before each update of its [[weights]]. "
        "Bigger batches are faster per image on a GPU and give smoother updates, but need "
        "more memory; if you double the batch size, the [[learning_rate]] can often grow too. "
        "32 or 64 are good starting points.",
    ),
    "backpropagation": Term(
        "Backpropagation",
        "How a network learns from a mistake: after each [[batch]] it works out, layer by "
        "layer from the output back to the input, how much each weight contributed to the "
        "[[loss]], and nudges every weight a little in the direction that lowers it. The "
        "size of the nudge is the [[learning_rate]].",
    ),
    "overfitting": Term(
        "Overfitting",
        "The model memorises the training images instead of learning what the classes have "
        "in common: training accuracy keeps rising while [[validation]] accuracy stalls or "
        "falls. Remedies: more or cleaner data, stronger [[augmentation]], more [[dropout]] "
        "or [[weight_decay]], fewer trainable layers ([[fine_tuning]]), or [[early_stopping]]. "
        "Studio's coach watches for it and says so in a banner.",
    ),
    "underfitting": Term(
        "Underfitting",
        "The model has not learned enough yet: both training and [[validation]] accuracy are "
        "low. Train longer, raise the [[learning_rate]] a little, unfreeze more layers "
        "([[fine_tuning]]) or choose a bigger model.",
    ),
    "augmentation": Term(
        "Augmentation",
        "Random changes to the training images — flips, small rotations, crops, colour "
        "shifts — so the model sees a slightly different picture every [[epoch]] and learns "
        "what stays the same. It is a strong cure for [[overfitting]]. Choose only changes "
        "that keep the label true: a mirrored digit is not a digit. The Augmentation panel "
        "previews exactly what trains; [[validation]] images are never augmented.",
    ),
    "transfer_learning": Term(
        "Transfer learning",
        "Starting from a model that was already trained on a large collection (ImageNet: 1.3 "
        "million photos in 1,000 classes) instead of random [[weights]]. Its early layers "
        "already recognise edges, textures and shapes, so your classes need far fewer images "
        "and epochs. Pick <i>imagenet</i> weights in the Model panel, then choose how much to "
        "[[fine_tuning|fine-tune]].",
    ),
    "fine_tuning": Term(
        "Fine-tuning",
        "Adapting a pre-trained model ([[transfer_learning]]) to your classes. Studio always "
        "replaces the last layer (the <i>head</i>) with one sized to your classes. "
        "<b>Linear probe</b> trains only the head; <b>partial</b> also trains the last few "
        "stages of the <i>backbone</i>; <b>full</b> trains everything, the backbone at the "
        "learning rate × the backbone factor so it keeps what it knows; <b>from scratch</b> "
        "starts from random weights.",
    ),
    "validation": Term(
        "Validation",
        "Images held out from training (20 % of each class by default) that measure how well "
        "the model does on pictures it has never learned from. Judge a model by its "
        "validation accuracy, never its training accuracy. A separate <i>test</i> share "
        "([[test_set]]) gives a final, untouched check.",
    ),
    "test_set": Term(
        "Test set",
        "A share of the images that neither training nor your decisions ever see, evaluated "
        "once at the end. Every time you look at it and change something, it becomes a bit "
        "more like [[validation]] data; Studio counts the looks.",
    ),
    "accuracy": Term(
        "Accuracy",
        "The share of images whose predicted class is the true class. With unbalanced "
        "classes it can flatter a model that always guesses the big class: look at each "
        "class's precision and recall in the Results tab too ([[class_imbalance]]).",
    ),
    "model": Term(
        "Model (architecture)",
        "The shape of the network: how many layers, how wide, how they connect. Small models "
        "(the small CNN, MobileNet) train fast and suit small datasets; big ones (ResNet-50, "
        "ConvNeXt) can learn more but need more data and time. Start simple.",
    ),
    "dropout": Term(
        "Dropout",
        "During training, randomly switches off a share of the head's inputs at each step, so "
        "the model cannot rely on one feature. 0.2–0.5 helps against [[overfitting]]; it is "
        "off when the model is evaluated.",
    ),
    "weight_decay": Term(
        "Weight decay",
        "Pulls every weight slightly towards zero at each update, which keeps the model "
        "simple and fights [[overfitting]]. 1e-4 to 1e-2 with AdamW.",
    ),
    "optimizer": Term(
        "Optimizer",
        "The rule that turns [[backpropagation]]'s result into weight updates. AdamW adapts "
        "the step for each weight and is a safe default; SGD with momentum can generalise "
        "slightly better with a tuned [[learning_rate]] and schedule.",
    ),
    "lr_schedule": Term(
        "Learning-rate schedule",
        "How the [[learning_rate]] changes during training. <b>Cosine</b> lowers it smoothly "
        "towards zero (after a short warm-up that starts low); <b>one-cycle</b> rises then "
        "falls; <b>step</b> divides it every few epochs; <b>reduce on plateau</b> lowers it "
        "when validation stops improving. Lower rates at the end settle the model.",
    ),
    "label_smoothing": Term(
        "Label smoothing",
        "Trains towards 90 % instead of 100 % certainty (at 0.1), which makes the model less "
        "over-confident and often a little more accurate on new images.",
    ),
    "early_stopping": Term(
        "Early stopping",
        "Ends training when the [[validation]] result has not improved for a number of epochs "
        "(the patience), and keeps the best epoch's [[weights]]. A simple guard against "
        "[[overfitting]] and wasted time.",
    ),
    "image_size": Term(
        "Image size",
        "Every image is resized to this many pixels square before it reaches the model. "
        "Bigger sizes show more detail but train slower; pre-trained models were made for "
        "224. Small pictures (digits, icons) do well at 32–64.",
    ),
    "class_imbalance": Term(
        "Class imbalance",
        "Some classes have far more images than others, so the model learns to favour them. "
        "Class weighting makes mistakes on rare classes count more (<i>weighted loss</i>) or "
        "shows rare classes more often (<i>sampler</i>).",
    ),
    "mixed_precision": Term(
        "Mixed precision",
        "Computes most of the network in 16-bit numbers on a GPU: about twice as fast and "
        "half the memory, with the same results in practice. It has no effect on the CPU.",
    ),
    "feature_cache": Term(
        "Feature cache",
        "With a frozen backbone (linear probe, no augmentation) the backbone's output for each "
        "image never changes, so Studio computes it once and trains only the head on it — "
        "many times faster.",
    ),
    "seed": Term(
        "Seed",
        "The starting number of the random choices (initial weights, batch order, "
        "augmentation). The same seed and settings repeat a run exactly; a different seed "
        "shows how much results vary by chance.",
    ),
    "workers": Term(
        "Loader workers",
        "Background processes that read and augment images while the model trains, so the "
        "model never waits for data. <i>auto</i> picks a number that suits the machine.",
    ),
    "device": Term(
        "Device",
        "Where training runs: an NVIDIA GPU (CUDA), an Apple GPU (MPS) or the CPU. A GPU is "
        "often 10–50 times faster; Studio picks the best one it finds.",
    ),
}

FIELD_TERMS: dict[str, str] = {
    "preset": "augmentation",  # and every field of an augmentation step (forms.field)
    "val_fraction": "validation",
    "test_fraction": "test_set",
    "name": "model",
    "weights": "transfer_learning",
    "dropout": "dropout",
    "strategy": "fine_tuning",
    "unfreeze": "fine_tuning",
    "backbone_lr_factor": "fine_tuning",
    "epochs": "epoch",
    "batch_size": "batch",
    "learning_rate": "learning_rate",
    "image_size": "image_size",
    "seed": "seed",
    "num_workers": "workers",
    "device": "device",
    "optimizer": "optimizer",
    "weight_decay": "weight_decay",
    "schedule": "lr_schedule",
    "warmup_epochs": "lr_schedule",
    "step_every": "lr_schedule",
    "label_smoothing": "label_smoothing",
    "mixed_precision": "mixed_precision",
    "feature_cache": "feature_cache",
    "class_weighting": "class_imbalance",
    "early_stopping": "early_stopping",
    "early_stopping_patience": "early_stopping",
    "early_stopping_metric": "early_stopping",
    "patience": "overfitting",
    "gap_threshold": "overfitting",
    "min_delta": "overfitting",
    "smoothing": "overfitting",
}
