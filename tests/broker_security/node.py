"""A dedicated RabbitMQ node for the broker security tests, never the machine's broker.

Node ``govbus-sec@localhost``: AMQP 5711, AMQPS 5712 (server certificate from the bus CA, client
certificates verified against it, EXTERNAL login from the common name), management API 15711, Erlang
distribution 25711. Its configuration, environment file, cookie, data and logs all live in one temporary
directory, deleted when the node stops.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

NODE = "govbus-sec@localhost"
AMQP_PORT = 5711
AMQPS_PORT = 5712
MANAGEMENT_PORT = 15711
DIST_PORT = 25711
ADMIN = "govbus-admin"
SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
PLUGINS = "[rabbitmq_management,rabbitmq_auth_mechanism_ssl]."


@dataclass
class SecureNode:
    """A running node; ``admin_url`` and ``management_url`` carry the administrator's password."""

    root: Path
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def amqp_url(self) -> str:
        return f"amqp://127.0.0.1:{AMQP_PORT}/"

    @property
    def amqps_url(self) -> str:
        return f"amqps://localhost:{AMQPS_PORT}/"

    @property
    def admin_url(self) -> str:
        return f"amqp://{ADMIN}:{self.admin_password}@127.0.0.1:{AMQP_PORT}/"

    @property
    def management_url(self) -> str:
        return f"http://{ADMIN}:{self.admin_password}@127.0.0.1:{MANAGEMENT_PORT}/"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(self.root),
            RABBITMQ_NODENAME=NODE,
            RABBITMQ_NODE_PORT=str(AMQP_PORT),
            RABBITMQ_DIST_PORT=str(DIST_PORT),
            RABBITMQ_MNESIA_BASE=str(self.root / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.root / "log"),
            RABBITMQ_CONFIG_FILE=str(self.root / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.root / "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=str(self.root / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.root / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(self.root / "rabbitmq.pid"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        return env

    def configure(self, ca: Path, cert: Path, key: Path) -> None:
        """Write the node's configuration: TLS with the bus CA, EXTERNAL from the common name."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "enabled_plugins").write_text(PLUGINS + "\n")
        (self.root / "rabbitmq.conf").write_text(
            "\n".join(
                [
                    f"listeners.tcp.1 = 127.0.0.1:{AMQP_PORT}",
                    f"listeners.ssl.1 = 127.0.0.1:{AMQPS_PORT}",
                    f"management.tcp.port = {MANAGEMENT_PORT}",
                    "management.tcp.ip = 127.0.0.1",
                    f"ssl_options.cacertfile = {ca}",
                    f"ssl_options.certfile = {cert}",
                    f"ssl_options.keyfile = {key}",
                    "ssl_options.verify = verify_peer",
                    "ssl_options.fail_if_no_peer_cert = false",
                    "ssl_options.versions.1 = tlsv1.3",
                    "ssl_options.versions.2 = tlsv1.2",
                    "auth_mechanisms.1 = EXTERNAL",
                    "auth_mechanisms.2 = PLAIN",
                    "ssl_cert_login_from = common_name",
                    f"default_user = {ADMIN}",
                    f"default_pass = {self.admin_password}",
                    "default_user_tags.administrator = true",
                    "loopback_users = none",
                    "log.console = false",
                    "log.file.level = info",
                    "",
                ]
            )
        )

    def start(self, timeout: float = 120.0) -> None:
        self._log = open(self.root / "server.out", "wb")  # noqa: SIM115 - closed by stop
        self.process = subprocess.Popen(
            [SERVER],
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"RabbitMQ node {NODE} exited: {(self.root / 'server.out').read_text()}")
            if all(_listening(port) for port in (AMQP_PORT, AMQPS_PORT, MANAGEMENT_PORT)):
                return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"RabbitMQ node {NODE} did not start within {timeout:g} s")

    def stop(self) -> None:
        """Stop the node (its own process group only) and delete its directory."""
        process = self.process
        if process is not None and process.poll() is None:
            subprocess.run(
                [CTL, "-n", NODE, "stop"],
                env=self.environment(),
                timeout=60,
                capture_output=True,
                check=False,
            )
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.root, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
