"""Test helpers to drive the platform through the gateway over HTTP, as a
partner app, the consumer app or an operator would.

Use the ``partner_center`` fixture (``support.fixtures``; loaded for every
test from the root conftest): it starts accounts, the services a test names
and a gateway, on the test's own vhost and databases, and returns a Platform:

    def test_booking(partner_center):
        pc = partner_center("catalog", "reservations")    # accounts + gateway always
        partner = pc.create_partner(category="salon")      # a new member, its admin; verified
        admin = partner.admin                              # a Member: .client, .member_id, .token
        master = pc.staff(partner, "master")               # a new member, invited and accepted
        body = expect(admin.client.post(f"/v1/partners/{partner.partner_id}/products", json={...}), 201)
        customer = pc.customer_session()                   # a Customer: .client, .customer_id
        key = pc.api_key(partner)                          # an ApiClient with a partner API key
        assert_error(customer.client.get(f"/v1/partners/{partner.partner_id}"), 403, "forbidden")

Platform (``pc``):
- ``pc.url``, ``pc.anonymous`` (ApiClient without a token), ``pc.client(token)``
- ``pc.sign_up_member(**fields)`` -> Member, logged in (random login id, name, phone unless given)
- ``pc.login(login_id, password)`` -> token
- ``pc.operator()`` -> Member of kind operator (created like ``make operator``, logged in)
- ``pc.create_partner(admin=None, category="salon", verified=True, **fields)`` -> Partner
- ``pc.verify_partner(partner_id)`` / ``pc.reject_partner(partner_id, reason)`` (as an operator)
- ``pc.invite(partner, member, role, by=None)`` -> invitation; ``pc.accept(member, invitation_id)``
- ``pc.staff(partner, role)`` -> a new Member holding ``role`` in the partner
- ``pc.customer_session(name=None, phone=None, subject=None)`` -> Customer, signed in as the consumer
  app does (R-ACC-12): an ID token of the development issuer (a new messenger user unless
  ``subject`` is given) exchanged at ``POST /v1/customer-sessions``
- ``pc.typed(token=None)`` -> the client generated from the document (``support.typed_client``; ``pc_client``)
- ``pc.id_token(phone, name=None, subject=None, **claims)`` -> that ID token (claims override, to forge)
- ``pc.api_key(partner, by=None, scopes=None, **fields)`` -> ApiClient authenticated with a new API key
  (acts as master within its scopes, by default every area's write; ``.api_key_id``)
- ``pc.containers[name]``: the running nameko containers (e.g. ``.config["DATABASE_URL"]``)

Responses: ``expect(response, 201)`` asserts the status and returns the JSON
body; ``assert_error(response, 409, "last_admin")`` checks the contract's
error shape and code and returns the ``error`` object.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

DEFAULT_PASSWORD = "correct horse battery"

# A shipping address for delivery and parcel orders (the orders tests, the commerce stories, the load proof).
ADDRESS = {
    "recipient_name": "김다온",
    "phone": "010-1234-5678",
    "address": "서울시 성동구 왕십리로 1",
    "detail": "101호",
    "postal_code": "04778",
}


def expect(response: requests.Response, status: int):
    """Assert the status; the JSON body (None for an empty body)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, "
        f"got {response.status_code}: {response.text[:500]}"
    )
    return response.json() if response.content else None


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict:
    """The contract's error body (api.md, Conventions), never a stack trace."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status}, "
        f"got {response.status_code}: {response.text[:500]}"
    )
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    assert "Traceback" not in response.text
    return body["error"]


class ApiClient:
    """``requests`` against the gateway, with an optional bearer token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.api_key_id: str | None = None  # set when the token is an API key
        self.timeout = timeout
        self.http = requests.Session()

    def with_token(self, token: str | None) -> ApiClient:
        return ApiClient(self.base_url, token, self.timeout)

    def request(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.http.request(method, self.base_url + path, headers=headers, **kwargs)
        except requests.ConnectionError:
            # A kept-alive connection can be closed under the client's feet; what
            # is safe to repeat (a read, a POST with its Idempotency-Key, as the
            # contract invites) is sent once more, on a new connection.
            if method != "GET" and "Idempotency-Key" not in headers:
                raise
            return self.http.request(method, self.base_url + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


@dataclass
class Member:
    member_id: str
    login_id: str
    password: str
    name: str
    phone: str
    token: str
    client: ApiClient
    kind: str = "member"


@dataclass
class Partner:
    partner_id: str
    name: str
    category: str
    admin: Member
    body: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/v1/partners/{self.partner_id}"


@dataclass
class Customer:
    customer_id: str
    name: str
    phone: str
    token: str
    client: ApiClient


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def random_phone() -> str:
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    return f"010-{digits[:4]}-{digits[4:]}"


class Platform:
    """A running gateway (and services) seen from outside; see the module docstring."""

    def __init__(self, url: str, containers: dict, dev_key_file: str | None = None):
        self.url = url
        self.containers = containers
        self.anonymous = ApiClient(url)
        self._operator: Member | None = None
        if dev_key_file is None and "gateway" in containers:
            dev_key_file = containers["gateway"].config["OIDC_DEV_KEY_FILE"]
        self.dev_key_file = dev_key_file
        self._dev_issuer = None

    def client(self, token: str | None = None) -> ApiClient:
        return ApiClient(self.url, token)

    def typed(self, token: str | None = None):
        """The client generated from the gateway's document (``support.typed_client``)."""
        from support.typed_client import client

        return client(self.url, token)

    # --- members --------------------------------------------------------------

    def sign_up_member(
        self,
        login_id: str | None = None,
        password: str = DEFAULT_PASSWORD,
        name: str | None = None,
        phone: str | None = None,
    ) -> Member:
        login_id = login_id or unique("m_")
        name = name or unique("Member ")
        phone = phone or random_phone()
        body = expect(
            self.anonymous.post(
                "/v1/members",
                json={"login_id": login_id, "password": password, "name": name, "phone": phone, "agree_terms": True},
            ),
            201,
        )
        token = self.login(login_id, password)
        return Member(body["member_id"], login_id, password, name, phone, token, self.client(token))

    def login(self, login_id: str, password: str = DEFAULT_PASSWORD) -> str:
        return expect(self.anonymous.post("/v1/sessions", json={"login_id": login_id, "password": password}), 201)[
            "token"
        ]

    def operator(self) -> Member:
        """The platform operator of this test (created once, as ``make operator`` does)."""
        if self._operator is None:
            from accounts.ops import create_operator

            login_id, password = unique("ops_"), DEFAULT_PASSWORD
            member_id = create_operator(
                self.containers["accounts"].config["DATABASE_URL"],
                login_id,
                password,
                self.containers["accounts"].config,
            )
            token = self.login(login_id, password)
            self._operator = Member(
                member_id, login_id, password, login_id, "", token, self.client(token), kind="operator"
            )
        return self._operator

    # --- partners and staff -----------------------------------------------------

    def create_partner(
        self,
        admin: Member | None = None,
        category: str = "salon",
        verified: bool = True,
        name: str | None = None,
        business_number: str = "123-45-67890",
        via_agency: bool | None = None,
    ) -> Partner:
        admin = admin or self.sign_up_member()
        body: dict[str, Any] = {
            "name": name or unique("Partner "),
            "category": category,
            "business_number": business_number,
        }
        if via_agency is not None or category == "lodging":
            body["via_agency"] = True if via_agency is None else via_agency
        created = expect(admin.client.post("/v1/partners", json=body), 201)
        if verified:
            created = self.verify_partner(created["partner_id"])
        return Partner(created["partner_id"], created["name"], created["category"], admin, created)

    def verify_partner(self, partner_id: str) -> dict:
        return expect(self.operator().client.post(f"/v1/ops/partners/{partner_id}/verify", json={}), 200)

    def reject_partner(self, partner_id: str, reason: str = "business number does not match") -> dict:
        return expect(
            self.operator().client.post(f"/v1/ops/partners/{partner_id}/reject", json={"reason": reason}), 200
        )

    def invite(self, partner: Partner, member: Member, role: str, by: Member | None = None) -> dict:
        by = by or partner.admin
        return expect(
            by.client.post(f"{partner.path}/invitations", json={"login_id": member.login_id, "role": role}), 201
        )

    def accept(self, member: Member, invitation_id: str) -> dict:
        return expect(member.client.post(f"/v1/invitations/{invitation_id}/accept"), 200)

    def staff(self, partner: Partner, role: str, member: Member | None = None) -> Member:
        """A member (new unless given) holding ``role`` in ``partner``."""
        member = member or self.sign_up_member()
        self.accept(member, self.invite(partner, member, role)["invitation_id"])
        return member

    def api_key(
        self,
        partner: Partner,
        by: Member | None = None,
        name: str = "partner system",
        scopes: tuple[str, ...] | None = None,
        **fields,
    ) -> ApiClient:
        """A key with ``scopes`` (default: every area's write, so read too; R-ACC-13)."""
        from chassis.scopes import AREAS

        by = by or partner.admin
        granted = list(scopes) if scopes is not None else [f"{area}:write" for area in AREAS]
        key = expect(by.client.post(f"{partner.path}/api-keys", json={"name": name, "scopes": granted, **fields}), 201)
        client = self.client(key["key"])
        client.api_key_id = key["api_key_id"]
        return client

    # --- customers --------------------------------------------------------------------

    @property
    def dev_issuer(self):
        """The development issuer the gateway trusts (gateway.devissuer), by its key file."""
        if self._dev_issuer is None:
            from gateway.devissuer import DevIssuer

            self._dev_issuer = DevIssuer.from_file(self.dev_key_file)
        return self._dev_issuer

    def id_token(self, phone: str, name: str | None = None, subject: str | None = None, **claims) -> str:
        return self.dev_issuer.id_token(phone, name, subject=subject or unique("messenger-user-"), **claims)

    def customer_session(
        self, name: str | None = None, phone: str | None = None, subject: str | None = None
    ) -> Customer:
        """Signed in through the typed client: the operation and its body model are the document's."""
        typed = self.typed()  # generates pc_client on first use
        from pc_client.api.accounts import customer_session
        from pc_client.models import IdTokenIn

        name = name or unique("Customer ")
        phone = phone or random_phone()
        answer = customer_session.sync_detailed(
            client=typed, body=IdTokenIn(id_token=self.id_token(phone, name, subject))
        )
        assert answer.status_code == 201, (answer.status_code, answer.content[:500])
        body = json.loads(answer.content)
        return Customer(body["customer_id"], name, phone, body["token"], self.client(body["token"]))

    def customer_from(self, opener: ApiClient, id_token: str, name: str, phone: str) -> Customer:
        body = expect(opener.post("/v1/customer-sessions", json={"id_token": id_token}), 201)
        return Customer(body["customer_id"], name, phone, body["token"], self.client(body["token"]))
