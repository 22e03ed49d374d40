"""Where a study lives (SQLite by default, PostgreSQL for many workers) and its trials' heartbeats.

A worker that dies mid-trial leaves that trial RUNNING. Each worker records a
heartbeat for its running trials every ``interval`` seconds; before asking for
new trials, a worker calls ``optuna.storages.fail_stale_trials``, which marks
FAIL every trial whose heartbeat is older than the grace period, so the study
stays consistent and the lost trial is counted out and redone.
"""
from __future__ import annotations

import re
import threading
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import optuna

from trainlab.errors import UserError

SUPPORTED = "sqlite:///FILE or postgresql://user@host:port/db"
CONNECT_TIMEOUT_S = 5  # an unreachable server is refused after this long, not after the OS's minutes
SQLITE_MAGIC = b"SQLite format 3\x00"


def storage_url(storage: str | None, out: Path) -> str:
    if storage is None:
        return f"sqlite:///{(out / 'study.db').resolve()}"
    scheme = re.match(r"^([A-Za-z][\w+.-]*)://", storage)
    if scheme is None:
        raise UserError(f"--storage {redact(storage)} is not a database URL; use {SUPPORTED}")
    if not re.fullmatch(r"sqlite|postgresql(\+\w+)?", scheme.group(1)):
        raise UserError(f"--storage {redact(storage)}: {scheme.group(1)}:// databases are not supported; "
                        f"use {SUPPORTED}")
    if storage.startswith("sqlite"):
        check_sqlite_file(storage)
    return with_driver(storage)


def check_sqlite_file(url: str) -> None:
    """Refuse an SQLite URL whose folder is missing or whose file is not an SQLite database,
    before SQLAlchemy fails on it with a traceback. An empty or absent file is a new study."""
    import sqlalchemy.engine

    try:
        database = sqlalchemy.engine.make_url(url).database
    except sqlalchemy.exc.ArgumentError:
        raise UserError(f"--storage {redact(url)} is not a database URL; use {SUPPORTED}") from None
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.is_dir():
        raise UserError(f"--storage {redact(url)}: the folder {path.parent} does not exist; "
                        f"create it first or give a file in an existing folder")
    if path.is_dir():
        raise UserError(f"--storage {redact(url)}: {path} is a folder; give a database file, e.g. {path / 'study.db'}")
    if path.exists():
        try:
            with path.open("rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise UserError(f"--storage {redact(url)}: {path} cannot be read ({exc.strerror or exc}); "
                            f"check its permissions") from None
        if head and head != SQLITE_MAGIC:
            raise UserError(f"--storage {redact(url)}: {path} is not an SQLite database; "
                            f"give a new file name or an existing study.db")


def with_driver(url: str) -> str:
    """``postgresql://`` with the installed driver: SQLAlchemy 2.1 defaults to psycopg 3,
    while ``trainlab[postgres]`` installs psycopg2."""
    import importlib.util

    if url.startswith("postgresql://") and importlib.util.find_spec("psycopg") is None \
            and importlib.util.find_spec("psycopg2") is not None:
        return "postgresql+psycopg2://" + url[len("postgresql://"):]
    return url


def redact(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe to print and save)."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


@contextmanager
def quiet_optuna() -> Iterator[None]:
    """Silence Optuna's notes that heartbeats are experimental and meant for ``Study.optimize``
    (we run them ourselves for ask-and-tell)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        yield


def open_storage(url: str, *, heartbeat: float, attempts: int = 5) -> optuna.storages.RDBStorage:
    """Open (creating its tables if needed) the study database.

    Workers starting together race to create Optuna's schema; the loser's
    ``CREATE`` fails on the winner's tables, so it tries again and finds them.
    """
    import sqlalchemy.exc

    for attempt in range(attempts):
        try:
            with quiet_optuna():
                storage = optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(url),
                                                     heartbeat_interval=max(int(heartbeat), 1),
                                                     grace_period=max(int(3 * heartbeat), 2))
            if url.startswith("sqlite"):
                _write_ahead_log(storage)
            return storage
        except ImportError as exc:
            raise UserError(f"the database driver for {redact(url)} is missing ({exc}); "
                            f"install it, e.g. pip install 'trainlab[postgres]'") from None
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
        except sqlalchemy.exc.OperationalError as exc:
            if url.startswith("sqlite") and attempt < attempts - 1 and "locked" in str(exc.orig):
                time.sleep(0.5 * (attempt + 1))  # another worker is creating the schema
                continue
            raise UserError(f"cannot open the study database {redact(url)}: {_first_line(exc)}; "
                            + ("check the URL's host, port, user, password and database name, and that "
                               "the server is running" if not url.startswith("sqlite") else
                               "check the file and its folder are writable")) from None
        except sqlalchemy.exc.DatabaseError as exc:
            raise UserError(f"cannot open the study database {redact(url)}: {_first_line(exc)}; "
                            f"give a new file or an existing study database") from None
    raise AssertionError("unreachable")


def _engine_kwargs(url: str) -> dict:
    """A short connect timeout for servers (libpq's ``connect_timeout``) unless the URL sets its own."""
    if url.startswith("sqlite") or "connect_timeout=" in url:
        return {}
    return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}}


def _first_line(exc: Exception) -> str:
    """The driver's own message, first line only, with any password redacted."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)


def _write_ahead_log(storage: optuna.storages.RDBStorage) -> None:
    """SQLite in write-ahead-log mode with ``synchronous=NORMAL``: a commit appends to the
    log instead of syncing the database file twice, which makes Optuna's many small
    transactions (one per suggested value, user attribute and result) about twice as
    fast. The study stays consistent if a worker is killed; only a power cut can lose
    the last commits (https://www.sqlite.org/wal.html).
    """
    import sqlalchemy

    @sqlalchemy.event.listens_for(storage.engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    storage.engine.dispose()  # connections opened while creating the schema lack the pragmas


class Heartbeat:
    """A thread recording heartbeats of the trials in :meth:`watch` until :meth:`drop`; a context manager."""

    def __init__(self, storage: optuna.storages.RDBStorage, interval: float) -> None:
        self.storage, self.interval = storage, interval
        self.trial_ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trainlab-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def watch(self, trial_ids: Iterable[int]) -> None:
        with self._lock:
            self.trial_ids.update(trial_ids)
        self._beat()

    def drop(self, trial_ids: Iterable[int]) -> None:
        with self._lock:
            self.trial_ids.difference_update(trial_ids)

    def _beat(self) -> None:
        with self._lock:
            ids = list(self.trial_ids)
        for trial_id in ids:
            self.storage.record_heartbeat(trial_id)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()
