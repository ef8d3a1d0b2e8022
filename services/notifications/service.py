"""The notifications service: entrypoints only; rules live in domain.py, SQL in store.py."""
from chassis.service import DataService


class NotificationsService(DataService):
    name = "notifications"
