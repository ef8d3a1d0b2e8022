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
        assert window.hit("10.0.0.1") == 0  # at 1000, 1010, 1020
        clock.now += 10
    assert window.hit("10.0.0.1") == 30  # at 1030 the 4th waits for the 1st to age out
    assert window.hit("10.0.0.2") == 0  # another address has its own allowance
    clock.now = 1060.5
    assert window.hit("10.0.0.1") == 0  # the first attempt left the window
    assert window.hit("10.0.0.1") == pytest.approx(9.5)  # refused attempts are not counted


def test_idle_addresses_are_swept(monkeypatch):
    import gateway.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "SWEEP_EVERY", 10)
    clock = Clock()
    window = SlidingWindow(1, 1, clock)
    for i in range(9):
        window.hit(f"10.0.0.{i}")
    clock.now += 5
    window.hit("10.0.1.1")  # the 10th check sweeps
    assert set(window.hits) == {"10.0.1.1"}


def test_rules_parse_or_refuse():
    assert parse_rule("20/60") == (20, 60.0)
    for bad in ("0/60", "5/0", "five/60", "5"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_x_forwarded_for_is_believed_only_through_trusted_proxies():
    from gateway.ratelimit import client_address, trusted_networks

    proxies = trusted_networks("10.0.0.0/8, 192.168.1.1")
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"  # not from our proxy
    assert client_address("10.1.2.3", "198.51.100.7", proxies) == "198.51.100.7"
    # A client's own header is to the left of what our proxies appended: the rightmost untrusted hop wins.
    assert client_address("10.1.2.3", "6.6.6.6, 198.51.100.7, 192.168.1.1", proxies) == "198.51.100.7"
    assert client_address("10.1.2.3", "not-an-address", proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", None, proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "198.51.100.7", trusted_networks("")) == "10.1.2.3"  # none trusted
