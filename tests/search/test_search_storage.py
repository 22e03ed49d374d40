"""Study storage URLs: every bad one is a one-line UserError naming the fix; servers get a short connect timeout.

Only 127.0.0.1 is ever contacted (a closed port there is "unreachable").
"""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from trainlab.errors import UserError
from trainlab.search.storage import CONNECT_TIMEOUT_S, _engine_kwargs, open_storage, storage_url


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is


def test_default_and_valid_sqlite_urls_pass(tmp_path: Path) -> None:
    assert storage_url(None, tmp_path) == f"sqlite:///{(tmp_path / 'study.db').resolve()}"
    assert storage_url(f"sqlite:///{tmp_path / 'new.db'}", tmp_path) == f"sqlite:///{tmp_path / 'new.db'}"
    (tmp_path / "empty.db").touch()  # an empty file is a new database to SQLite
    storage_url(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)


@pytest.mark.parametrize("url, match", [
    ("banana", "not a database URL; use sqlite:///FILE or postgresql://"),
    ("redis://x", "redis:// databases are not supported; use sqlite:///FILE or postgresql://"),
    ("mysql://u:pw@127.0.0.1/db", "mysql:// databases are not supported; use sqlite:///FILE or postgresql://"),
    ("mysql+pymysql://u@127.0.0.1/db", "not supported"),
])
def test_unsupported_urls_name_the_supported_ones(tmp_path: Path, url: str, match: str) -> None:
    with pytest.raises(UserError, match=match) as info:
        storage_url(url, tmp_path)
    assert "pw" not in str(info.value) and "trainlab[postgres]" not in str(info.value)


def test_sqlite_missing_folder_folder_and_non_database(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="folder .*missing.* does not exist; create it"):
        storage_url(f"sqlite:///{tmp_path / 'missing' / 'study.db'}", tmp_path)
    with pytest.raises(UserError, match="is a folder"):
        storage_url(f"sqlite:///{tmp_path}", tmp_path)
    (tmp_path / "notes.db").write_text("not a database\n")
    with pytest.raises(UserError, match="notes.db is not an SQLite database"):
        storage_url(f"sqlite:///{tmp_path / 'notes.db'}", tmp_path)


def test_sqlite_with_a_valid_header_but_garbage_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 20)
    url = storage_url(f"sqlite:///{path}", tmp_path)
    with pytest.raises(UserError, match="cannot open the study database .*broken.db"):
        open_storage(url, heartbeat=30)


def test_unreachable_postgres_is_one_line_and_quick(tmp_path: Path) -> None:
    pytest.importorskip("psycopg2")
    url = storage_url(f"postgresql://user:secret@127.0.0.1:{closed_port()}/db", tmp_path)
    start = time.perf_counter()
    with pytest.raises(UserError, match="cannot open the study database .*server is running") as info:
        open_storage(url, heartbeat=30)
    assert time.perf_counter() - start < CONNECT_TIMEOUT_S
    message = str(info.value)
    assert "\n" not in message and "secret" not in message and "127.0.0.1" in message


def test_servers_get_a_short_connect_timeout_unless_the_url_sets_one() -> None:
    assert _engine_kwargs("postgresql+psycopg2://u@127.0.0.1/db") == {"connect_args": {"connect_timeout": 5}}
    assert _engine_kwargs("postgresql://u@127.0.0.1/db?connect_timeout=30") == {}
    assert _engine_kwargs("sqlite:///x.db") == {}
