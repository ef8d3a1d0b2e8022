"""Route groups of the gateway, one module per area of ../shared/api.md
(accounts.py, catalog.py, ...). Each defines a mixin class of ``@route``
methods; ``gateway.service.GatewayService`` inherits them all."""
