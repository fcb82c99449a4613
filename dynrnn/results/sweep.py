"""Result of a sweep of training runs (`dynrnn.sweep`)."""

from dataclasses import dataclass

from ._base import _FrozenArrays


@dataclass(frozen=True, eq=False, repr=False)
class SweepResult(_FrozenArrays):
    """What a call of `dynrnn.sweep` did, and the stored runs of its grid.

    Attributes
    ----------
    db : str
        Path of the SQLite run store (read it with
        `dynrnn.training.store.load_runs`).
    n_total : int
        Number of runs in the grid (task x init x method x length x seed).
    n_skipped : int
        Runs skipped because the store already held them as finished.
    n_run : int
        Runs executed by this call, failed ones included.
    n_failed : int
        Runs of this call that raised; they are stored with status
        ``"error"`` and retried by the next sweep of the same grid.
    records : tuple of dict
        The stored records of the grid's runs, in grid order (see
        `dynrnn.training.store.load_runs` for their fields); a run that was
        never recorded (the sweep was interrupted) has no record.
    """

    db: str
    n_total: int
    n_skipped: int
    n_run: int
    n_failed: int
    records: tuple

    @property
    def n_finished(self):
        """Runs of the grid stored as finished (status ``"ok"``), whenever they ran."""
        return sum(1 for r in self.records if r["status"] == "ok")

    @property
    def complete(self):
        """True when every run of the grid is stored as finished."""
        return self.n_finished == self.n_total

    @property
    def n_succeeded(self):
        """Finished runs whose summary says ``success``."""
        return sum(1 for r in self.records if r["status"] == "ok" and r["success"])

    def __repr__(self):
        return (
            f"SweepResult(db={self.db!r}, n_total={self.n_total}, n_skipped={self.n_skipped}, "
            f"n_run={self.n_run}, n_failed={self.n_failed}, n_finished={self.n_finished}, "
            f"n_succeeded={self.n_succeeded})"
        )
