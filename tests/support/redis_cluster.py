"""A throwaway Redis Cluster on this machine: three masters on free ports, no replicas,
nothing saved (the sharded pub/sub tests; README, Production, "Past one Redis").

`redis_cluster()` starts the servers with Debian's `redis-server`, joins them with
`redis-cli --cluster create`, waits until every node says `cluster_state:ok`, and kills the
servers and removes their directory when the block ends, whatever happened inside it."""
from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

START_SECONDS = 30.0
# A master that stops answering is marked failed after this long (milliseconds): the
# default 15 s would make a test that restarts one wait that long for a cluster that agrees.
NODE_TIMEOUT_MS = 2000


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port(taken: set[int]) -> int:
    """A port that is free, and whose cluster bus port (port + 10000) is free too; both below
    Linux's ephemeral range (32768 and up), where outgoing connections take their ports."""
    for _ in range(1000):
        port = random.randint(10000, 22000)
        if port not in taken and _port_is_free(port) and _port_is_free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def _wait(condition, what: str, timeout: float = START_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"the local Redis Cluster: {what} did not happen within {timeout} s")


class LocalCluster:
    """The running cluster: its nodes by port, a client for each, and who owns what."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.ports: list[int] = []
        self._servers: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        """A URL naming the cluster (any node will do: the client discovers the others)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def start(self, port: int) -> None:
        """Start (or restart) the node on `port`; a restart keeps its slots (its nodes file)."""
        log = open(self.directory / f"redis-{port}.log", "ab")  # noqa: SIM115 - the server holds it
        self._servers[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--cluster-enabled", "yes", "--cluster-config-file", str(self.directory / f"nodes-{port}.conf"),
             "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
             "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if port not in self.ports:
            self.ports.append(port)
        server = self._servers[port]

        def answering() -> bool:
            if server.poll() is not None:
                log_tail = (self.directory / f"redis-{port}.log").read_text(errors="replace")[-1000:]
                raise RuntimeError(f"redis-server on {port} exited:\n{log_tail}")
            return self.node(port).ping()

        _wait(answering, f"node {port} answering")

    def kill(self, port: int) -> None:
        """SIGKILL the node on `port` (a crash: no goodbye to the clients)."""
        server = self._servers.pop(port)
        server.kill()
        server.wait(timeout=10)

    def wait_ok(self) -> None:
        """Until every node says the cluster serves all its slots."""
        for port in self.ports:
            _wait(lambda port=port: self.node(port).cluster("info")["cluster_state"] == "ok",
                  f"cluster_state:ok on {port}")

    def master_of(self, key: str) -> int:
        """The port of the master that owns `key`'s hash slot (a channel name is a key)."""
        any_node = self.node(self.ports[0])
        slot = any_node.cluster("keyslot", key)
        for start, end, master, *_ in any_node.execute_command("CLUSTER SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise LookupError(f"slot {slot} is not served")

    def node_id(self, port: int) -> str:
        return self.node(port).cluster("myid").decode()

    def move_slot(self, key: str, to_port: int) -> None:
        """Hand `key`'s slot to the master on `to_port` (what a resharding does, for a slot
        without keys): every master learns the new owner at once."""
        slot = self.node(self.ports[0]).cluster("keyslot", key)
        source, target = self.master_of(key), self.node_id(to_port)
        self.node(to_port).execute_command("CLUSTER SETSLOT", slot, "IMPORTING", self.node_id(source))
        self.node(source).execute_command("CLUSTER SETSLOT", slot, "MIGRATING", target)
        for port in (to_port, source, *[p for p in self.ports if p not in (to_port, source)]):
            self.node(port).execute_command("CLUSTER SETSLOT", slot, "NODE", target)
        _wait(lambda: all(self._owner_seen_by(port, slot) == to_port for port in self.ports),
              f"every node agreeing that {to_port} owns slot {slot}")

    def _owner_seen_by(self, port: int, slot: int) -> int | None:
        for start, end, master, *_ in self.node(port).execute_command("CLUSTER SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        return None

    def stop(self) -> None:
        for server in self._servers.values():
            server.kill()
        for server in self._servers.values():
            server.wait(timeout=10)
        self._servers.clear()


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[LocalCluster]:
    """A cluster of `masters` masters (no replicas) in a temporary directory, for one block."""
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="lyceum-redis-cluster-")))
    try:
        taken: set[int] = set()
        for _ in range(masters):
            port = free_cluster_port(taken)
            taken.add(port)
            cluster.start(port)
        subprocess.run(
            ["redis-cli", "--cluster", "create", *[f"127.0.0.1:{port}" for port in cluster.ports],
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=START_SECONDS)
        cluster.wait_ok()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.directory, ignore_errors=True)
