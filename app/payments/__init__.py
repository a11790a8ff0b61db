"""Payments: items owed by decisions, batches, the ISO 20022 bank file and the finance CSV.

Importing the package registers the listener that turns final decisions into payment items
(`service.decision_listener`); app/models.py imports it, so every process that touches the
database has it.
"""

from app.payments import service as _service  # noqa: F401  (registers the listener)
