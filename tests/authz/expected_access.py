"""Who may call each gateway route: the expected side of the authorization
matrix (tests/authz/test_authorization_matrix.py).

Written from api.md (Roles table and the route tables), NOT from
services/gateway/auth.py, so that a wrong access level on a route shows up as
a mismatch. APPEND-ONLY: when you add a route, add its line here in the same
commit; a route without a line (or a line without a route) fails the test.

Each entry names the callers that get past authorization (any answer but 401,
403, or a 404 from the partner check). Everyone else is refused: anonymous
callers with 401, callers that are not staff of the partner in the path with
404 (another partner's objects do not exist for them), the rest with 403.

Callers: a partner A with staff of each role and an API key; a member with no
partner; the admin and the API key of another partner B; a customer; an operator.
"""

ANONYMOUS = "anonymous"
CUSTOMER = "customer"
MEMBER = "member"  # a partner-center member with no role in partner A
PARTNER_MEMBER = "partner_member"  # role member in A
PARTNER_MASTER = "partner_master"
PARTNER_ADMIN = "partner_admin"
API_KEY = "api_key"  # A's API key: acts as master of A, but manages no staff or keys
OPERATOR = "operator"
OTHER_ADMIN = "other_admin"  # admin of partner B
OTHER_API_KEY = "other_api_key"  # B's API key

CALLERS = (
    ANONYMOUS,
    CUSTOMER,
    MEMBER,
    PARTNER_MEMBER,
    PARTNER_MASTER,
    PARTNER_ADMIN,
    API_KEY,
    OPERATOR,
    OTHER_ADMIN,
    OTHER_API_KEY,
)

EVERYONE = frozenset(CALLERS)
WITH_SESSION = frozenset(CALLERS) - {ANONYMOUS, API_KEY, OTHER_API_KEY}  # log out
MEMBERS = frozenset({MEMBER, PARTNER_MEMBER, PARTNER_MASTER, PARTNER_ADMIN, OTHER_ADMIN})
CUSTOMERS = frozenset({CUSTOMER})
OPERATORS = frozenset({OPERATOR})
# Roles table of api.md, for partner A's paths:
STAFF = frozenset({PARTNER_MEMBER, PARTNER_MASTER, PARTNER_ADMIN, API_KEY})  # read; operate reservations/orders
MANAGERS = frozenset({PARTNER_MASTER, PARTNER_ADMIN, API_KEY})  # manage products/places/...; finance
STAFF_MANAGERS = frozenset({PARTNER_MASTER, PARTNER_ADMIN})  # invite staff, roles
ADMINS = frozenset({PARTNER_ADMIN})  # API keys (R-ACC-13)

P = "/v1/partners/<pid>"

EXPECTED: dict[tuple[str, str], frozenset] = {
    # --- platform -------------------------------------------------------------------------
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/v1/openapi.json"): EVERYONE,
    # --- accounts (#3) ----------------------------------------------------------------------
    ("POST", "/v1/members"): EVERYONE,
    ("POST", "/v1/sessions"): EVERYONE,
    ("DELETE", "/v1/sessions/current"): WITH_SESSION,
    ("POST", "/v1/customer-sessions"): EVERYONE,
    ("GET", "/dev/oidc/jwks.json"): EVERYONE,  # the development issuer's public keys (R-ACC-12)
    ("GET", "/v1/me"): MEMBERS,
    ("PATCH", "/v1/me"): MEMBERS,
    ("POST", "/v1/me/withdraw"): MEMBERS,
    ("GET", "/v1/me/partners"): MEMBERS,
    ("GET", "/v1/me/invitations"): MEMBERS,
    ("POST", "/v1/invitations/<invitation_id>/accept"): MEMBERS,
    ("POST", "/v1/invitations/<invitation_id>/decline"): MEMBERS,
    ("POST", "/v1/partners"): MEMBERS,
    ("GET", P): STAFF,
    ("PATCH", P): MANAGERS,
    ("GET", f"{P}/members"): STAFF,
    ("POST", f"{P}/invitations"): STAFF_MANAGERS,
    ("PATCH", f"{P}/members/<member_id>"): STAFF_MANAGERS,
    ("DELETE", f"{P}/members/<member_id>"): STAFF_MANAGERS,
    ("POST", f"{P}/places"): MANAGERS,
    ("GET", f"{P}/places"): STAFF,
    ("PATCH", f"{P}/places/<place_id>"): MANAGERS,
    ("POST", f"{P}/api-keys"): ADMINS,  # R-ACC-13: keys are given by an admin
    ("GET", f"{P}/api-keys"): ADMINS,
    ("DELETE", f"{P}/api-keys/<key_id>"): ADMINS,
    ("GET", f"{P}/dashboard"): STAFF,
    ("GET", "/v1/notices"): MEMBERS,
    ("POST", "/v1/ops/partners/<pid>/verify"): OPERATORS,
    ("POST", "/v1/ops/partners/<pid>/reject"): OPERATORS,
    ("POST", "/v1/ops/notices"): OPERATORS,
    # --- issue 17: closing, re-applying, the operators' queue (R-ACC-14, R-ACC-15) --------------
    ("POST", f"{P}/close"): frozenset({PARTNER_ADMIN}),
    ("POST", f"{P}/resubmit"): frozenset({PARTNER_ADMIN}),
    ("GET", "/v1/ops/partners"): OPERATORS,
    ("GET", "/v1/ops/notifications"): OPERATORS,
    # --- catalog (#4) -------------------------------------------------------------------------
    ("POST", f"{P}/products"): MANAGERS,
    ("GET", f"{P}/products"): STAFF,
    ("GET", f"{P}/products/<product_id>"): STAFF,
    ("PATCH", f"{P}/products/<product_id>"): MANAGERS,
    ("POST", f"{P}/products/<product_id>/submit"): MANAGERS,
    ("GET", f"{P}/products/<product_id>/history"): STAFF,
    ("GET", f"{P}/products/<product_id>/inventory"): STAFF,
    ("PUT", f"{P}/products/<product_id>/inventory"): MANAGERS,
    ("GET", f"{P}/products/<product_id>/booking-settings"): STAFF,
    ("PUT", f"{P}/products/<product_id>/booking-settings"): MANAGERS,
    ("POST", f"{P}/products/<product_id>/blocks"): MANAGERS,
    ("DELETE", f"{P}/products/<product_id>/blocks/<block_id>"): MANAGERS,
    ("GET", "/v1/ops/reviews"): OPERATORS,
    ("POST", "/v1/ops/reviews/<rid>/approve"): OPERATORS,
    ("POST", "/v1/ops/reviews/<rid>/reject"): OPERATORS,
    ("GET", "/v1/shop/products"): EVERYONE,
    ("GET", "/v1/shop/products/<product_id>"): EVERYONE,
    # --- reservations ----------------------------------------------------------------------------
    ("POST", "/v1/shop/reservations"): CUSTOMERS,
    ("GET", "/v1/shop/reservations"): CUSTOMERS,
    ("GET", "/v1/shop/reservations/<number>"): CUSTOMERS,
    ("GET", "/v1/shop/reservations/<number>/cancellation-quote"): CUSTOMERS,
    ("POST", "/v1/shop/reservations/<number>/cancel"): CUSTOMERS,
    ("POST", "/v1/shop/reservations/<number>/change-date"): CUSTOMERS,
    ("POST", "/v1/shop/reservations/<number>/share"): CUSTOMERS,
    ("GET", "/v1/shop/shared/<token>"): CUSTOMERS,
    ("POST", "/v1/shop/shared/<token>/save"): CUSTOMERS,
    ("POST", "/v1/shop/reservations/<number>/transfer"): CUSTOMERS,
    ("POST", "/v1/shop/transfers/<token>/accept"): CUSTOMERS,
    ("GET", "/v1/shop/chat-invitations"): CUSTOMERS,
    ("POST", "/v1/shop/chat-invitations/<invitation_id>/accept"): CUSTOMERS,
    ("POST", "/v1/shop/chat-invitations/<invitation_id>/decline"): CUSTOMERS,
    ("GET", f"{P}/reservations"): STAFF,
    ("GET", f"{P}/reservations/<number>"): STAFF,
    ("POST", f"{P}/reservations/<number>/confirm"): STAFF,
    ("POST", f"{P}/reservations/<number>/reject"): STAFF,
    ("POST", f"{P}/reservations/<number>/complete"): STAFF,
    ("POST", f"{P}/reservations/<number>/cancel"): STAFF,
    ("POST", f"{P}/reservations/<number>/no-show"): STAFF,
    ("POST", f"{P}/reservations/<number>/chat-requests"): STAFF,
    ("GET", f"{P}/reservation-board"): STAFF,
    # --- orders -------------------------------------------------------------------------------------
    ("POST", "/v1/shop/orders"): CUSTOMERS,
    ("GET", "/v1/shop/orders"): CUSTOMERS,
    ("GET", "/v1/shop/orders/<order_id>"): CUSTOMERS,
    ("PATCH", "/v1/shop/orders/<order_id>"): CUSTOMERS,
    ("POST", "/v1/shop/orders/<order_id>/cancel"): CUSTOMERS,
    ("POST", "/v1/shop/orders/<order_id>/refund-requests"): CUSTOMERS,
    ("POST", "/v1/shop/orders/<order_id>/exchange-requests"): CUSTOMERS,
    ("POST", "/v1/shop/orders/<order_id>/inquiries"): CUSTOMERS,
    ("POST", "/v1/shop/orders/<order_id>/reviews"): CUSTOMERS,
    ("GET", f"{P}/orders"): STAFF,
    ("GET", f"{P}/orders/<order_id>"): STAFF,
    ("GET", f"{P}/couriers"): STAFF,
    ("POST", f"{P}/exchange-requests/<request_id>/receive"): STAFF,
    ("POST", f"{P}/exchange-requests/<request_id>/ship"): STAFF,
    ("POST", f"{P}/exchange-requests/<request_id>/deliver"): STAFF,
    ("POST", "/v1/shop/products/<product_id>/questions"): CUSTOMERS,
    ("GET", "/v1/shop/products/<product_id>/questions"): EVERYONE,
    ("GET", f"{P}/product-questions"): STAFF,
    ("POST", f"{P}/product-questions/<question_id>/answer"): STAFF,
    ("PATCH", f"{P}/orders/<order_id>"): STAFF,
    ("POST", f"{P}/orders/<order_id>/start-preparing"): STAFF,
    ("POST", f"{P}/orders/<order_id>/complete"): STAFF,
    ("POST", f"{P}/orders/<order_id>/prepare-shipment"): STAFF,
    ("POST", f"{P}/orders/<order_id>/ship"): STAFF,
    ("POST", f"{P}/orders/<order_id>/deliver"): STAFF,
    ("POST", f"{P}/orders/<order_id>/cancel"): STAFF,
    ("PATCH", f"{P}/orders/<order_id>/shipment"): STAFF,
    ("GET", f"{P}/refund-requests"): STAFF,
    ("POST", f"{P}/refund-requests/<request_id>/approve"): STAFF,
    ("POST", f"{P}/refund-requests/<request_id>/reject"): STAFF,
    ("GET", f"{P}/exchange-requests"): STAFF,
    ("POST", f"{P}/exchange-requests/<request_id>/approve"): STAFF,
    ("POST", f"{P}/exchange-requests/<request_id>/reject"): STAFF,
    ("GET", f"{P}/inquiries"): STAFF,
    ("POST", f"{P}/inquiries/<inquiry_id>/answer"): STAFF,
    ("GET", f"{P}/reviews"): STAFF,
    ("POST", f"{P}/reviews/<review_id>/reply"): STAFF,
    # --- settlement (#8) ----------------------------------------------------------------------------
    ("GET", f"{P}/ledger"): MANAGERS,
    ("GET", f"{P}/payouts"): MANAGERS,
    ("GET", f"{P}/tax-invoices"): MANAGERS,
    ("GET", f"{P}/sales-summary"): MANAGERS,
    ("POST", "/v1/ops/settlement/runs"): OPERATORS,
    ("GET", "/v1/ops/settlement/commission-rates"): OPERATORS,
    ("POST", "/v1/ops/settlement/commission-rates"): OPERATORS,
    ("PUT", "/v1/ops/partners/<pid>/payout-schedule"): OPERATORS,
    # --- notifications (#7) ------------------------------------------------------------------------
    ("GET", f"{P}/notifications"): STAFF - {API_KEY},  # a member's own inbox: an API key has none (403)
    ("POST", f"{P}/notifications/<message_id>/read"): STAFF - {API_KEY},
    ("GET", "/v1/me/notifications"): MEMBERS,
    ("GET", f"{P}/events"): STAFF - {API_KEY},  # live events (#22): a member's inbox as it grows
    ("GET", "/v1/shop/messages"): CUSTOMERS,
    ("POST", "/v1/shop/messages/<message_id>/read"): CUSTOMERS,
    ("POST", f"{P}/webhooks"): MANAGERS,
    ("GET", f"{P}/webhooks"): MANAGERS,
    ("GET", f"{P}/webhooks/<webhook_id>"): MANAGERS,
    ("DELETE", f"{P}/webhooks/<webhook_id>"): MANAGERS,
    ("POST", f"{P}/webhooks/<webhook_id>/enable"): MANAGERS,
    ("GET", f"{P}/webhooks/<webhook_id>/deliveries"): MANAGERS,
    ("POST", f"{P}/channel-messages"): MANAGERS,
    ("GET", f"{P}/channel-messages"): MANAGERS,
    ("GET", f"{P}/conversations"): STAFF,
    ("GET", f"{P}/conversations/<conversation_id>/messages"): STAFF,
    ("POST", f"{P}/conversations/<conversation_id>/messages"): STAFF,
    ("GET", "/v1/shop/conversations"): CUSTOMERS,
    ("GET", "/v1/shop/conversations/<conversation_id>/messages"): CUSTOMERS,
    ("POST", "/v1/shop/conversations/<conversation_id>/messages"): CUSTOMERS,
    # --- reviews of reservations (#11) ---------------------------------------------------------------
    ("POST", "/v1/shop/reservations/<number>/reviews"): CUSTOMERS,
    # --- insights: customers, statistics, reviews read model (#11); GET {P}/reviews moved here -------
    ("GET", f"{P}/customers"): STAFF,
    ("GET", f"{P}/statistics"): STAFF,
    ("GET", "/v1/shop/products/<product_id>/reviews"): EVERYONE,
    # --- coupons (#11): managed like products, read by staff; customers see those given to them -------
    ("POST", f"{P}/coupons"): MANAGERS,
    ("GET", f"{P}/coupons"): STAFF,
    ("GET", f"{P}/coupons/<coupon_id>"): STAFF,
    ("PATCH", f"{P}/coupons/<coupon_id>"): MANAGERS,
    ("POST", f"{P}/coupons/<coupon_id>/issue"): MANAGERS,
    ("POST", f"{P}/coupons/<coupon_id>/pause"): MANAGERS,
    ("POST", f"{P}/coupons/<coupon_id>/resume"): MANAGERS,
    ("GET", "/v1/shop/coupons"): CUSTOMERS,
    # --- the docs page (#15) ------------------------------------------------------------------
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/<name>"): EVERYONE,
    # --- issue 16: revealing a customer's phone is a person's act, admins and masters (R-RSV-12) -----
    ("POST", f"{P}/reservations/<number>/reveal-phone"): STAFF_MANAGERS,
    ("POST", f"{P}/orders/<order_id>/reveal-phone"): STAFF_MANAGERS,
    ("POST", f"{P}/webhooks/<webhook_id>/rotate-secret"): MANAGERS,
    # --- issue 16: staff passwords and sessions (R-ACC-16) ----------------------------------------
    ("POST", "/v1/me/password"): MEMBERS,
    ("GET", "/v1/me/sessions"): MEMBERS,
    ("DELETE", "/v1/me/sessions/<session_id>"): MEMBERS,
    ("POST", "/v1/ops/members/<member_id>/password-reset"): OPERATORS,
}
