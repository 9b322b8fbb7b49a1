"""Who may do what: roles and permissions, accounts, and the access log."""

from analytics.access.roles import ROLES, Actor, Permission, allowed, require

__all__ = ["ROLES", "Actor", "Permission", "allowed", "require"]
