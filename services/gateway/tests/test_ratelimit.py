"""The gateway's sliding-window rate limit (pure; the HTTP behaviour is tested
in services/accounts/tests/test_members_and_sessions.py)."""
import pytest

from gateway.ratelimit import SlidingWindow, parse_rule


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_n_attempts_in_any_window_of_s_seconds_per_address():
    clock = Clock()
    window = SlidingWindow(3, 60, clock)
    for _ in range(3):
        assert window.hit("10.0.0.1") == 0         # at 1000, 1010, 1020
        clock.now += 10
    assert window.hit("10.0.0.1") == 30            # at 1030 the 4th waits for the 1st to age out
    assert window.hit("10.0.0.2") == 0             # another address has its own allowance
    clock.now = 1060.5
    assert window.hit("10.0.0.1") == 0             # the first attempt left the window
    assert window.hit("10.0.0.1") == pytest.approx(9.5)  # refused attempts are not counted


def test_idle_addresses_are_swept(monkeypatch):
    import gateway.ratelimit as ratelimit
    monkeypatch.setattr(ratelimit, "SWEEP_EVERY", 10)
    clock = Clock()
    window = SlidingWindow(1, 1, clock)
    for i in range(9):
        window.hit(f"10.0.0.{i}")
    clock.now += 5
    window.hit("10.0.1.1")                         # the 10th check sweeps
    assert set(window.hits) == {"10.0.1.1"}


def test_rules_parse_or_refuse():
    assert parse_rule("20/60") == (20, 60.0)
    for bad in ("0/60", "5/0", "five/60", "5"):
        with pytest.raises(ValueError):
            parse_rule(bad)
