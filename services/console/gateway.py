"""The console's only way to the platform: the gateway's public HTTP API, with
the signed-in staff member's own token (never RPC, never a database).

Every answer that is not 2xx becomes an ``ApiError`` carrying the contract's
error body (``code``, ``message``, ``details``); screens show it through
``console.words.error_text``. A gateway that does not answer at all is a
503 ``gateway_unavailable`` like any other 503.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

TIMEOUT_SECONDS = 10


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str = ""
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class Gateway:
    """One staff member's (or an anonymous visitor's) view of the gateway."""

    def __init__(
        self, base_url: str, token: str | None = None, lang: str = "ko", session: requests.Session | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.lang = lang
        self.http = session or requests.Session()

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Accept-Language": self.lang, **(extra or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        """The JSON answer (None for 204), or ApiError."""
        try:
            response = self.http.request(
                method,
                self.base_url + path,
                json=body,
                params={k: v for k, v in (query or {}).items() if v not in (None, "")},
                headers=self.headers(),
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException:
            raise ApiError(503, "gateway_unavailable") from None
        if response.status_code >= 400:
            raise error_of(response)
        return response.json() if response.content else None

    def get(self, path: str, **query):
        return self.call("GET", path, query=query)

    def post(self, path: str, body: dict | None = None):
        return self.call("POST", path, body=body if body is not None else {})

    def put(self, path: str, body: dict):
        return self.call("PUT", path, body=body)

    def patch(self, path: str, body: dict):
        return self.call("PATCH", path, body=body)

    def delete(self, path: str):
        return self.call("DELETE", path)

    def stream(self, path: str, last_event_id: str | None):
        """A server-sent event stream, passed through byte for byte (its ids
        stay the gateway's, so the browser resumes with them)."""
        headers = self.headers(
            {"Accept": "text/event-stream", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        )
        try:
            response = self.http.get(self.base_url + path, headers=headers, stream=True, timeout=(5, 90))
        except requests.RequestException:
            raise ApiError(503, "gateway_unavailable") from None
        if response.status_code >= 400:
            raise error_of(response)
        return response


def error_of(response: requests.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, error["code"], error.get("message", ""), error.get("details") or {})
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "unexpected_answer")
