"""Priority lanes (`--turbo`, `--fast`, `--relax`): the order jobs take in a model's queue."""

from enum import StrEnum


class Lane(StrEnum):
    """A job's lane. Within a lane members take turns (`broker.fairness`); a lane's jobs start
    before any job of the lanes after it: turbo, then fast (every job unless it asks), then relax."""

    TURBO = "turbo"
    FAST = "fast"
    RELAX = "relax"

    @property
    def rank(self) -> int:
        """0 for the lane that starts first."""
        return list(Lane).index(self)
