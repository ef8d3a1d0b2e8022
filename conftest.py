"""Every test runs under the eventlet monkeypatch, as the services do
(plain pytest would hang on nameko containers)."""
import os
import warnings

# Before psycopg is first imported: its wait function is chosen at import.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

pytest_plugins = ["chassis.testing", "support.fixtures"]
