"""`make run`/`make test` check the broker and the database first, and say in
one sentence how to get one that is missing."""
import os
import subprocess

from chassis.config import REPO_ROOT
from chassis.testing import free_port

SCRIPT = str(REPO_ROOT / "tools" / "ensure_infra.sh")


def run_check(**env):
    return subprocess.run([SCRIPT], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_running_broker_and_database_pass_the_check():
    assert run_check().returncode == 0


def test_a_broker_neither_reachable_nor_installed_is_named_with_how_to_install_it():
    # A port nobody listens on, and a PATH on which no RabbitMQ server can be found.
    result = run_check(PC_AMQP_URI=f"pyamqp://guest:guest@127.0.0.1:{free_port()}/", PATH="/usr/bin:/bin")
    assert result.returncode == 1
    assert "RabbitMQ is not reachable" in result.stderr and "apt-get install rabbitmq-server" in result.stderr

