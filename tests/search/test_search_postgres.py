"""Many workers, one study, on a real PostgreSQL server (Debian's package, started for this test).

The server runs as the ``postgres`` user when the tests run as root (PostgreSQL
refuses root), listens on 127.0.0.1 only, and is stopped at teardown.
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

SPACE = """
[fixed]
dataset = "synthetic-blobs"
depth = 1
width = 8
steps = {steps}
batch-size = 32
log-every = 10
eval-every = 0

[params.lr]
type = "log-uniform"
low = 1e-3
high = 0.5
"""


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


def _ensure_postgres() -> Path:
    pytest.importorskip("psycopg2", reason="psycopg2-binary is not installed (pip install 'trainlab[test]')")
    bindir = _pg_bin()
    if bindir is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=False, capture_output=True, timeout=600, env=env)
        subprocess.run(["apt-get", "install", "-y", "postgresql"], check=False, capture_output=True, timeout=900,
                       env=env)
        bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed and cannot be installed here (needs root and apt-get)")
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _ensure_postgres()
    root = Path(tempfile.mkdtemp(prefix="trainlab-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def pg(*cmd: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120, **kw)

    init = pg(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "trainlab", "--no-sync")
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
    start = pg(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "-o",
               f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        if start.returncode != 0:
            pytest.fail(f"pg_ctl start failed: {start.stderr}{(root / 'log').read_text()[-500:]}")
        created = pg(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "trainlab", "study")
        assert created.returncode == 0, created.stderr
        yield f"postgresql://trainlab@127.0.0.1:{port}/study"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def worker(tmp_path: Path, url: str, name: str, *, seed: int, trials: int, steps: int, study: str) -> subprocess.Popen:
    space = tmp_path / f"space-{steps}.toml"
    space.write_text(SPACE.format(steps=steps))
    cmd = [sys.executable, "-m", "trainlab", "search", str(space), "--storage", url, "--study-name", study,
           "--trials", str(trials), "--population", "2", "--sampler", "random", "--seed", str(seed),
           "--heartbeat", "1", "--out", str(tmp_path / name), "--quiet", "--json"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-2000:]


def trials_of(url: str, study: str):
    from trainlab.search.storage import with_driver

    return optuna.load_study(study_name=study, storage=with_driver(url)).get_trials(deepcopy=False)


def test_two_workers_share_one_study_and_record_every_trial_once(tmp_path, postgres_url):
    workers = [worker(tmp_path, postgres_url, f"w{i}", seed=i, trials=8, steps=30, study="shared") for i in (1, 2)]
    for proc in workers:
        finish(proc)
    trials = trials_of(postgres_url, "shared")
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) >= 8
    assert all(t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED) for t in trials)
    # each trial trained by exactly one worker, in that worker's folder
    dirs = [Path(t.user_attrs["run_dirs"][0]) for t in trials]
    assert all(d.is_dir() for d in dirs)
    assert len(set(dirs)) == len(dirs) and all((d / "summary.json").is_file() for d in dirs)
    assert {d.parents[1].name for d in dirs} <= {"w1", "w2"}


def test_a_killed_worker_leaves_a_failed_trial_and_a_restart_finishes_the_study(tmp_path, postgres_url):
    # trials long enough that none can finish before the kill, however fast the machine
    victim = worker(tmp_path, postgres_url, "victim", seed=5, trials=4, steps=500_000, study="killed")
    deadline = time.time() + 120
    running = []
    while time.time() < deadline and not running:
        time.sleep(0.1)
        try:
            running = [t for t in trials_of(postgres_url, "killed") if t.state == optuna.trial.TrialState.RUNNING]
        except KeyError:  # the study does not exist yet
            continue
    assert running, "the worker never started a trial"
    # a trial killed between its ask and its first heartbeat could never be judged stale;
    # wait past one heartbeat so that every trial the worker asked for has beaten
    time.sleep(2.0)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    # the worker asks for its population of 2 one trial at a time, so the second may have
    # started between the poll and the kill: the stranded trials are those left after it
    stranded = trials_of(postgres_url, "killed")
    assert all(t.state == optuna.trial.TrialState.RUNNING for t in stranded)
    time.sleep(3.5)  # past the grace period (3 heartbeats of 1 s)
    restart = worker(tmp_path, postgres_url, "restart", seed=6, trials=4, steps=30, study="killed")
    finish(restart)
    trials = trials_of(postgres_url, "killed")
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert {t.number for t in failed} == {t.number for t in stranded}
    done = [t for t in trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(done) == 4 and len(done) + len(failed) == len(trials)
