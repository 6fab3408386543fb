"""The error every patient- or representative-side request raises when it cannot be done as
asked; the edge (an action, a console page) turns it into the person's words."""
from __future__ import annotations


class RequestError(ValueError):
    """A request that cannot be recorded as asked; nothing was changed."""
