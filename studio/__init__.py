"""Studio: a desktop training studio for image classification."""

import os

__version__ = "0.1.0"

# torch's compute threads wait for each other at every step. By default they spin while they
# wait, which costs 10x and more when any other program (or the window) wants a core too;
# waiting passively costs little on an idle machine. Set before torch loads; yours wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
