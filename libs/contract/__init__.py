"""The HTTP contract's shapes (issue 15): the pydantic models of gateway
responses (and, as they move here, request bodies and query strings), one
module per area, so a shape is written once and no service imports another's
code to agree on it.

The gateway declares them on its routes (``gateway.http.route``): it
validates requests with them, serialises responses through them and builds
``/v1/openapi.json`` from them.
"""
