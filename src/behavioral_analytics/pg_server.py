"""A throwaway PostgreSQL cluster on loopback, for tests and local trials.

``start`` runs ``initdb`` and ``pg_ctl start`` (PostgreSQL 15's, from the PATH
or Debian's ``/usr/lib/postgresql/<version>/bin``) on a spare port with trust
authentication on 127.0.0.1 only, its data, socket and log in one folder,
and creates the database. initdb refuses to run as root: as root the cluster
runs as the ``postgres`` user, in a folder that user owns. ``stop`` stops it
and removes the folder. Command line: ``scripts/postgres.sh start|stop``.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

SERVER_USER = "postgres"
DATABASE = "behavior"


@dataclass
class Server:
    folder: str
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"
    database: str = DATABASE

    def environment(self) -> dict[str, str]:
        """The BEHAVIOR_PG_* variables the profile's postgres target reads."""
        return {
            "BEHAVIOR_PG_HOST": self.host,
            "BEHAVIOR_PG_PORT": str(self.port),
            "BEHAVIOR_PG_USER": self.user,
            "BEHAVIOR_PG_PASSWORD": "",
            "BEHAVIOR_PG_DATABASE": self.database,
        }


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(
            f"{name} not found: install PostgreSQL's server (apt-get install postgresql); "
            "scripts/bootstrap.sh does where it runs as root"
        )
    return candidates[-1]


def _spare_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and the server refuse root: run them as the postgres user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def start(folder: Path | None = None, port: int | None = None) -> Server:
    """Create and start a cluster; returns how to reach it."""
    folder = Path(folder or tempfile.mkdtemp(prefix="behavior-pg-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    if os.geteuid() == 0:
        import pwd

        account = pwd.getpwnam(SERVER_USER)
        os.chown(folder, account.pw_uid, account.pw_gid)
        folder.chmod(0o755)
    port = port or _spare_port()
    subprocess.run(
        _as_server_user(
            [_binary("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            + ["--locale=C.UTF-8", "--no-sync"]
        ),
        check=True,
        capture_output=True,
        text=True,
    )
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC"
    )
    subprocess.run(
        _as_server_user(
            [_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"]
            + ["start"]
        ),
        check=True,
        capture_output=True,
        text=True,
    )
    server = Server(folder=str(folder), port=port)
    _create_database(server)
    (folder / "server.json").write_text(json.dumps(asdict(server)))
    return server


def _create_database(server: Server) -> None:
    import psycopg2

    connection = psycopg2.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres"
    )
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"create database {server.database}")
    finally:
        connection.close()


def stop(folder: Path, remove: bool = True) -> None:
    """Stop the cluster in this folder (fast shutdown) and remove the folder."""
    data = Path(folder) / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_server_user([_binary("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=True,
            capture_output=True,
            text=True,
        )
    if remove:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    """``start [FOLDER]`` prints export lines for the profile; ``stop FOLDER``."""
    if len(argv) >= 1 and argv[0] == "start":
        server = start(Path(argv[1]) if len(argv) > 1 else None)
        for name, value in server.environment().items():
            print(f"export {name}={value}")
        print(f"# stop with: scripts/postgres.sh stop {server.folder}")
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        stop(Path(argv[1]))
        return 0
    print("usage: scripts/postgres.sh start [FOLDER] | stop FOLDER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
