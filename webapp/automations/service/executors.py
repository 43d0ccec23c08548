"""The modules that register step executors (steps.py): importing this registers them all. A
feature that brings a step type adds its module here."""

from __future__ import annotations

from webapp.automations.service import effects

EXECUTOR_MODULES = (effects,)
