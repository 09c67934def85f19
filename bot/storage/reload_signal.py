"""A signal every host hears: the knowledge files were published, look at them now rather than in a while."""

from __future__ import annotations

import secrets
import time

from . import StorageError
from .shared import SharedValues

KEY = "knowledge:published"
_NOT_LOOKED = object()
#: How long the last announcement is kept; any later one replaces it.
KEEP_SECONDS = 365 * 24 * 3600.0


class ReloadSignal:
    """Announced by the host that published (`announce`); every other host `heard` it at its next look."""

    def __init__(self, values: SharedValues, look_every: float = 1.0):
        self.values = values
        self.look_every = look_every
        self._seen: object = _NOT_LOOKED
        self._looked_at = float("-inf")

    def announce(self) -> None:
        token = secrets.token_hex(8)
        self.values.set_value(KEY, token, KEEP_SECONDS)
        self._seen = token  # this host knows already

    def heard(self) -> bool:
        """True once after another host announced; looks at most every `look_every` seconds, never raises."""
        now = time.monotonic()
        if now - self._looked_at < self.look_every:
            return False
        self._looked_at = now
        try:
            value = self.values.get_value(KEY)
        except StorageError:
            return False
        previous, self._seen = self._seen, value
        return previous is not _NOT_LOOKED and value != previous
