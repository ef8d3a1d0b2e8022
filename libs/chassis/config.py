"""Service configuration: one ``config.yaml`` per service, ``${VAR:default}`` expanded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from nameko.cli.main import setup_yaml_parser

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES_DIR = REPO_ROOT / "services"

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# nameko's AMQP heartbeat, seconds: how soon a consumer notices a broker node it can no
# longer reach (a partition: nothing refused, nothing arrives) and moves to the next node
# of its AMQP_URI list. nameko's default; PC_AMQP_HEARTBEAT overrides it for every service.
DEFAULT_AMQP_HEARTBEAT = 60

setup_yaml_parser()  # the same ${VAR:default} rules as `nameko run --config`


def service_dir(service: str) -> Path:
    """``accounts`` is ``services/accounts``; a path names a service elsewhere (tests' own)."""
    return Path(service).resolve() if "/" in service else SERVICES_DIR / service


def service_name(service: str) -> str:
    return service_dir(service).name


def load_config(service: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    with open(service_dir(service) / "config.yaml") as handle:
        config = yaml.safe_load(handle) or {}
    config.setdefault("HEARTBEAT", int(os.environ.get("PC_AMQP_HEARTBEAT", DEFAULT_AMQP_HEARTBEAT)))
    config.update(overrides or {})
    return config


def database_url_for(service: str) -> str:
    """``PC_<SERVICE>_DATABASE_URL`` or the local default ``pc_<service>``."""
    return os.environ.get(
        f"PC_{service.upper()}_DATABASE_URL",
        f"postgresql://postgres@127.0.0.1:5432/pc_{service}",
    )
