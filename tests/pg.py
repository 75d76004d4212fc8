"""A throw-away PostgreSQL cluster for the tests, and fresh databases in it.

The cluster lives in a temporary folder: `initdb` makes it, `postgres` is started directly (so we
hold its PID), listens on 127.0.0.1 on a free port and on a socket in that folder, and is stopped
by PID (SIGINT, then SIGKILL) before the folder is removed. initdb and postgres refuse to run as
root, so as root (CI) both run as Debian's `postgres` system user. Missing binaries are an error,
never a skip: `make test` installs them through `.ci/system-deps`.

Set DINPLAN_TEST_POSTGRES_URL to use an existing server instead; its user must be allowed to
create databases.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

URL_ENV = "DINPLAN_TEST_POSTGRES_URL"
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# Durability is pointless in a cluster that is deleted after the run.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    # Each test database copied from the template is ~8 MB of WAL; checkpoint often so the
    # cluster stays small in RAM when it lives on tmpfs.
    "max_wal_size": "96MB",
    "min_wal_size": "32MB",
    "max_connections": "100",
    "logging_collector": "off",
}


class PopenArgs(TypedDict, total=False):
    """The keyword arguments of `subprocess.run`/`Popen` that every server command gets."""

    cwd: Path
    env: dict[str, str]
    user: int
    group: int
    extra_groups: list[int]


class PostgresUnavailableError(RuntimeError):
    """The throw-away cluster could not be made or started; the message says why."""


def find_bin_dir() -> Path:
    """Debian's newest PostgreSQL binaries, or PATH's if they are not in /usr/lib/postgresql."""
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    for bin_dir in reversed(candidates):
        if (bin_dir / "postgres").exists():
            return bin_dir
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).parent / "postgres").exists():
        return Path(initdb).parent
    raise PostgresUnavailableError(
        "PostgreSQL is not installed: no /usr/lib/postgresql/*/bin/initdb and postgres. "
        "Run `make system-deps` (or `apt-get install postgresql`), or set "
        f"{URL_ENV} to a server where the user may create databases."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child after it has become the postgres user: if pytest is killed outright the
    # server gets SIGQUIT (immediate shutdown) instead of running on. Linux only; best effort.
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGQUIT)


def _searchable_by_all(path: Path) -> bool:
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents])


SHM = Path("/dev/shm")
SHM_NEEDED = 1 << 30
OWNER_FILE = "owner.pid"  # the PID of the test process that made the cluster


def _cluster_parent(as_root: bool) -> Path:
    """Where the cluster's folder goes: tmpfs if there is room, else the temporary folder.

    CREATE DATABASE takes ~10 ms on tmpfs and ~300 ms on an ext4 disk even with fsync=off, and
    every test creates one.
    """
    with contextlib.suppress(OSError):
        stats = os.statvfs(SHM)
        if (stats.f_bavail * stats.f_frsize >= SHM_NEEDED and os.access(SHM, os.W_OK)
                and (not as_root or _searchable_by_all(SHM))):
            return SHM
    parent = Path(tempfile.gettempdir())
    if as_root and not _searchable_by_all(parent):
        return Path("/tmp")  # the postgres user must reach the folder
    return parent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _remove_stale_clusters(parent: Path) -> None:
    """Folders left by runs that were killed outright (their postgres died with them, see
    `_die_with_parent`); on tmpfs they would hold on to memory."""
    for root in parent.glob("dinplan-pg-*"):
        owner = _pid_in(root / OWNER_FILE)
        postmaster = _pid_in(root / "data" / "postmaster.pid")
        if owner is None or _alive(owner) or (postmaster is not None and _alive(postmaster)):
            continue
        shutil.rmtree(root, ignore_errors=True)


class PostgresCluster:
    """One initdb'd cluster in a temporary folder, run by one `postgres` process."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.password = secrets.token_urlsafe(16)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0
        self._account: pwd.struct_passwd | None = None
        if self._as_root:
            try:
                self._account = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresUnavailableError(
                    f"running as root, so initdb must run as the {SYSTEM_USER!r} system user, "
                    "which does not exist; Debian's postgresql package creates it"
                ) from None
        parent = _cluster_parent(self._as_root)
        _remove_stale_clusters(parent)
        self.root = Path(tempfile.mkdtemp(prefix="dinplan-pg-", dir=parent))
        (self.root / OWNER_FILE).write_text(f"{os.getpid()}\n")
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "postgres.log"

    # -- running the binaries as the right user -------------------------------------------------

    def _popen_args(self) -> PopenArgs:
        args: PopenArgs = {"cwd": self.root, "env": {**os.environ, "LC_ALL": "C"}}
        if self._account is not None:
            args.update({"user": self._account.pw_uid, "group": self._account.pw_gid,
                         "extra_groups": []})
        return args

    def _prepare_root(self) -> None:
        self.socket_dir.mkdir()
        self.log_file.touch()
        if self._account is not None:
            for path in (self.root, self.socket_dir, self.log_file):
                os.chown(path, self._account.pw_uid, self._account.pw_gid)

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._account is not None:
            os.chown(pwfile, self._account.pw_uid, self._account.pw_gid)
        result = subprocess.run(
            [
                str(self.bin_dir / "initdb"), "--pgdata", str(self.data_dir),
                "--username", SUPERUSER, "--pwfile", str(pwfile),
                "--auth-local", "trust", "--auth-host", "scram-sha-256",
                "--encoding", "UTF8", "--no-locale", "--no-sync", "--no-instructions",
            ],
            capture_output=True, check=False, **self._popen_args(),
        )
        pwfile.unlink()
        if result.returncode != 0:
            raise PostgresUnavailableError(
                f"initdb failed ({result.returncode}):\n{result.stdout.decode(errors='replace')}"
                f"{result.stderr.decode(errors='replace')}"
            )

    def _launch(self) -> subprocess.Popen[bytes]:
        settings = {
            **SERVER_SETTINGS,
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
        }
        command = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with self.log_file.open("ab") as log:
            return subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent, **self._popen_args(),
            )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> URL:
        """The superuser's URL for the `postgres` database, over TCP on the loopback."""
        return URL.create("postgresql+psycopg", username=SUPERUSER, password=self.password,
                          host="127.0.0.1", port=self.port, database="postgres")

    def start(self) -> None:
        self._prepare_root()
        self._initdb()
        for _attempt in range(3):  # another process may take the free port before we bind it
            self.port = _free_port()
            self.process = self._launch()
            if self._wait_until_ready():
                return
            self.stop_server()
            if "could not bind" not in self._log_tail():
                break
        raise PostgresUnavailableError(f"postgres did not start:\n{self._log_tail()}")

    def _wait_until_ready(self) -> bool:
        assert self.process is not None
        conninfo = make_url(self.url).set(drivername="postgresql")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                psycopg.connect(conninfo.render_as_string(hide_password=False),
                                connect_timeout=2).close()
            except psycopg.OperationalError:
                time.sleep(0.05)
            else:
                return True
        return False

    def stop_server(self) -> None:
        """Fast shutdown by PID (SIGINT); SIGKILL if it does not stop in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        try:
            self.stop_server()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def normalize_url(url: str | URL) -> URL:
    """Any postgres URL, with the psycopg (3) driver that storage uses."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"{URL_ENV} must be a postgresql:// URL, not {parsed.drivername}://")
    return parsed.set(drivername="postgresql+psycopg")


class Databases:
    """Creates and drops databases on one server through a single autocommit connection."""

    def __init__(self, server_url: str | URL) -> None:
        self.server_url = normalize_url(server_url)
        libpq_url = self.server_url.set(drivername="postgresql")
        self._admin = psycopg.connect(libpq_url.render_as_string(hide_password=False),
                                      autocommit=True)
        self._prefix = f"dinplan_{os.getpid()}_{secrets.token_hex(3)}_"
        self._count = 0

    def url(self, name: str) -> str:
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str = "template0", label: str = "test") -> str:
        """A new empty (or copied from `template`) database; returns its name."""
        self._count += 1
        name = f"{self._prefix}{label}_{self._count}"
        self._admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)))
        return name

    def drop(self, name: str) -> None:
        # FORCE ends connections a test left open (PostgreSQL 13+).
        self._admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))

    def close(self) -> None:
        self._admin.close()
