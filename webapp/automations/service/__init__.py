"""The automations' rules: automations.py (create, edit the draft, publish, pause, resume,
archive), enrolments.py (enrol and remove contacts), steps.py (the step executors' registry),
plan.py (a flow as the engine walks it) and engine.py (running due steps exactly once)."""
