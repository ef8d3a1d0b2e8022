"""The catalog service: entrypoints only; rules live in domain.py, SQL in store.py."""
from chassis.service import DataService


class CatalogService(DataService):
    name = "catalog"
