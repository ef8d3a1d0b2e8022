from pathlib import Path

import pytest

PROBE = str(Path(__file__).parent / "chassis_probe")


@pytest.fixture
def probe_path():
    return PROBE
