"""The headless front end: ``studio train``, ``scan``, ``models``, ``runs``, ``predict``,
``export`` and ``evaluate``, one module per command, over the same engine as the window."""
