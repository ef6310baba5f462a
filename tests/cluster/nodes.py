"""A RabbitMQ cluster of three nodes on this machine, for tests that lose a node.

Each node is Debian's ``rabbitmq-server`` run as an ordinary child process with its own node name
(``govbus-c1@localhost``...), AMQP port (5701-5703), Erlang distribution port (25701-25703), configuration
file, data directory (``RABBITMQ_MNESIA_BASE``), log directory, enabled-plugins file (none: no management
plugin) and environment file (so the machine's ``/etc/rabbitmq/rabbitmq-env.conf`` does not apply), all
under one temporary directory whose ``.erlang.cookie`` the nodes and ``rabbitmqctl`` share through
``HOME``. The machine's own broker (port 5672, node ``rabbit@localhost``) is never addressed; the nodes
only register with the machine's ``epmd`` like any Erlang node.

Nodes 2 and 3 join node 1 (``stop_app``, ``join_cluster``, ``start_app``). Quorum queues are placed
``client-local``: a queue declared through node N is led by node N. Memory stays small: one scheduler,
no busy waiting, a 256 MiB high watermark (publishers are blocked above it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # the script itself: /usr/sbin's wrapper su's
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
AMQP_PORTS = (5701, 5702, 5703)
DIST_PORTS = (25701, 25702, 25703)
ERL_ARGS = "+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none -kernel inet_dist_use_interface {127,0,0,1}"
CONFIG = """\
listeners.tcp.local = 127.0.0.1:{port}
loopback_users.guest = true
vm_memory_high_watermark.absolute = 256MiB
disk_free_limit.absolute = 50MB
queue_leader_locator = client-local
log.console = false
log.file.level = info
"""


class ClusterError(Exception):
    """A node did not start, join or stop as asked; the message names the node and its log."""


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ClusterNode:
    """One node: its names, ports, files and the ``rabbitmq-server`` process."""

    name: str
    port: int
    dist_port: int
    base: Path
    process: subprocess.Popen[bytes] | None = None
    killed: bool = False

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def pid_file(self) -> Path:
        return self.base / "rabbitmq.pid"

    @property
    def log_file(self) -> Path:
        return self.base / "log" / f"{self.name}.log"

    def os_pid(self) -> int:
        """The Erlang VM's process id (``rabbitmq-server`` is a shell that waits for it)."""
        return int(self.pid_file.read_text().strip())

    def environment(self, home: Path) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))},
            "HOME": str(home),
            "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": ERL_ARGS,
        }

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class LocalCluster:
    """Three nodes under ``root``: ``start`` boots and joins them, ``stop`` stops them and deletes ``root``."""

    def __init__(self, root: Path, *, size: int = 3) -> None:
        self.root = root
        self.home = root / "home"
        self.nodes = [
            ClusterNode(f"govbus-c{n + 1}@localhost", AMQP_PORTS[n], DIST_PORTS[n], root / f"c{n + 1}")
            for n in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def broker(self) -> str:
        """The address list every participant is given: all nodes, comma-separated."""
        return ",".join(self.urls)

    def node(self, name: str) -> ClusterNode:
        return next(node for node in self.nodes if node.name == name)

    def running(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.process is not None and node.process.poll() is None]

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 180) -> None:
        busy = [p for node in self.nodes for p in (node.port, node.dist_port) if port_in_use(p)]
        if busy:
            raise ClusterError(f"ports {busy} are in use: another cluster test is running or was left behind")
        self.home.mkdir(parents=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20))
        cookie.chmod(0o400)
        (self.home / "rabbitmq-env.conf").write_text("")
        (self.home / "enabled_plugins").write_text("[].\n")
        for node in self.nodes:
            (node.base / "log").mkdir(parents=True)
            (node.base / "rabbitmq.conf").write_text(CONFIG.format(port=node.port))
            with (node.base / "server.out").open("wb") as out:
                node.process = subprocess.Popen(
                    [str(SERVER)],
                    env=node.environment(self.home),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for node in self.nodes:
            self.await_node(node, timeout)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app", timeout=timeout)
            self.ctl(node, "await_startup", timeout=timeout)
        members = self.ctl(first, "eval", "rabbit_nodes:all_running().").stdout
        missing = [node.name for node in self.nodes if node.name not in members]
        if missing:
            raise ClusterError(f"nodes {missing} are not running in the cluster: {members.strip()}")

    def await_node(self, node: ClusterNode, timeout: float) -> None:
        """Wait until the node's VM is up (it registers with epmd first) and its application started."""
        deadline = time.monotonic() + timeout
        while True:
            assert node.process is not None
            if node.process.poll() is not None:
                raise ClusterError(f"{node.name} exited ({node.process.returncode}):\n{node.log_tail()}")
            try:
                self.ctl(node, "ping", timeout=30)
                break
            except ClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        self.ctl(node, "await_startup", timeout=max(10.0, deadline - time.monotonic()))

    def kill(self, node: ClusterNode) -> None:
        """SIGKILL the node's Erlang VM: no goodbye to its peers or its clients."""
        os.kill(node.os_pid(), signal.SIGKILL)
        node.killed = True
        assert node.process is not None
        node.process.wait(30)

    def stop(self) -> None:
        """Stop every node still running (SIGKILL past a timeout); delete their files but their logs."""
        for node in self.running():
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
                self.ctl(node, "stop", timeout=60)
        for node in self.nodes:
            if node.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                node.process.wait(30)
            # The node's session: its shell, the Erlang VM and the VM's helpers, whichever still runs.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)
        for node in self.nodes:  # the logs stay beside the deleted nodes, for a failed test's report
            if (node.base / "log").is_dir():
                shutil.copytree(
                    node.base / "log", self.root.parent / f"{node.base.name}-log", dirs_exist_ok=True
                )
        shutil.rmtree(self.root, ignore_errors=True)

    # -- inspection ---------------------------------------------------------------------------------

    def ctl(self, node: ClusterNode, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``rabbitmqctl -n NODE ARGS`` with the cluster's cookie; ``ClusterError`` when it fails."""
        command = [str(CTL), "-q", "-n", node.name, *args]
        with subprocess.Popen(
            command,
            env=node.environment(self.home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise ClusterError(
                    f"rabbitmqctl {' '.join(args)} on {node.name}: no answer in {timeout:g} s"
                ) from None
        if process.returncode != 0:
            raise ClusterError(
                f"rabbitmqctl {' '.join(args)} on {node.name} failed ({process.returncode}): "
                f"{(stderr or stdout).strip()[-500:]}\nlog:\n{node.log_tail()}"
            )
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def leaders(self, queues: Sequence[str]) -> dict[str, str]:
        """Each named quorum queue's leader node, asked of a running node."""
        asker = next(node for node in self.running() if not node.killed)
        listing = self.ctl(asker, "list_queues", "--no-table-headers", "name", "leader").stdout
        found = {}
        for line in listing.splitlines():
            name, _, leader = line.rpartition("\t")
            if name in queues:
                found[name] = leader.strip()
        return found

    def wait_for_leaders(self, queues: Sequence[str], avoiding: str, timeout: float = 60) -> dict[str, str]:
        """The queues' leaders once none is ``avoiding`` (a node that died); ``ClusterError`` after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            leaders = self.leaders(queues)
            if len(leaders) == len(queues) and avoiding not in leaders.values():
                return leaders
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"queues still led by {avoiding} or missing after {timeout:g} s: {leaders}"
                )
            time.sleep(0.5)
