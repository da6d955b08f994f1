"""Studio: a desktop training studio for image classification."""

__version__ = "0.1.0"
