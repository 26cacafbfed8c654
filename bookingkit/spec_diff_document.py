"""What `spec diff` compares outside the paths: the servers clients are configured with, and the definitions of
the security schemes (where and how a credential is sent). A client built against the old document sends its
credential where the old scheme said, to a URL the old servers listed; moving either breaks it."""

from typing import Any

from .openapi import deref
from .spec_changes import BREAKING, COMPATIBLE, Recorder

SCHEME_FIELDS = ("type", "in", "name", "scheme", "openIdConnectUrl")
FLOW_URLS = ("authorizationUrl", "tokenUrl", "refreshUrl")


def server_urls(*holders: dict[str, Any]) -> list[str]:
    """The first holder's `servers` that has any (operation, then path item, then document), as URLs."""
    for holder in holders:
        servers = (holder or {}).get("servers")
        if servers:
            return [str(s.get("url", "")).rstrip("/") or "/" for s in servers if isinstance(s, dict)]
    return ["/"]  # OpenAPI's default server


class Document(Recorder):
    def servers(self, old: list[str], new: list[str], where: tuple[Any, ...]) -> None:
        for url in [u for u in old if u not in new]:
            self.add(BREAKING, "server-removed", where, f"server {url} was removed: clients configured with it fail")
        for url in [u for u in new if u not in old]:
            self.add(COMPATIBLE, "server-added", where, f"server {url} was added")

    def security_schemes(self) -> None:
        old = ((self.old.get("components") or {}).get("securitySchemes")) or {}
        new = ((self.new.get("components") or {}).get("securitySchemes")) or {}
        used = self._schemes_used()
        for name in sorted(old.keys() - new.keys()):
            # Operations that required it are reported there (security-requirement-added) as well.
            self.add(
                BREAKING if name in used else COMPATIBLE,
                "security-scheme-removed",
                ("components", "securitySchemes", name),
                f"security scheme {name} was removed" + (" while operations used it" if name in used else ""),
            )
        for name in sorted(new.keys() - old.keys()):
            self.add(
                COMPATIBLE,
                "security-scheme-added",
                ("components", "securitySchemes", name),
                f"security scheme {name} was added",
            )
        for name in sorted(old.keys() & new.keys()):
            self.security_scheme(
                deref(self.old, old[name]) or {},
                deref(self.new, new[name]) or {},
                ("components", "securitySchemes", name),
            )

    def security_scheme(self, old: dict[str, Any], new: dict[str, Any], where: tuple[Any, ...]) -> None:
        """A client sends its credential as the old definition said: another type, place, header name or HTTP
        scheme (compared without case, as HTTP does) is refused."""
        for field in SCHEME_FIELDS:
            if field != "type" and old.get("type") != new.get("type"):
                break  # another type has other fields: the type is the change
            a, b = old.get(field), new.get(field)
            if field == "scheme" and isinstance(a, str) and isinstance(b, str):
                a, b = a.lower(), b.lower()
            if a != b:
                self.add(
                    BREAKING,
                    "security-scheme-changed",
                    (*where, field),
                    f"{field} {old.get(field)!r} became {new.get(field)!r}: clients send credentials the old way",
                )
        old_flows, new_flows = old.get("flows") or {}, new.get("flows") or {}
        for flow in sorted(old_flows.keys() - new_flows.keys()):
            self.add(
                BREAKING,
                "security-scheme-flow-removed",
                (*where, "flows", flow),
                f"the {flow} flow was removed: clients that use it get no token",
            )
        for flow in sorted(new_flows.keys() - old_flows.keys()):
            self.add(COMPATIBLE, "security-scheme-flow-added", (*where, "flows", flow), f"the {flow} flow was added")
        for flow in sorted(old_flows.keys() & new_flows.keys()):
            a, b, at = old_flows[flow] or {}, new_flows[flow] or {}, (*where, "flows", flow)
            for field in FLOW_URLS:
                if a.get(field) != b.get(field):
                    self.add(
                        BREAKING,
                        "security-scheme-changed",
                        (*at, field),
                        f"{field} {a.get(field)!r} became {b.get(field)!r}: clients ask for tokens at the old one",
                    )
            old_scopes, new_scopes = a.get("scopes") or {}, b.get("scopes") or {}
            for scope in sorted(old_scopes.keys() - new_scopes.keys()):
                self.add(
                    BREAKING,
                    "security-scheme-scope-removed",
                    (*at, "scopes", scope),
                    f"scope {scope} was removed: clients that ask for it are refused",
                )
            for scope in sorted(new_scopes.keys() - old_scopes.keys()):
                self.add(COMPATIBLE, "security-scheme-scope-added", (*at, "scopes", scope), f"scope {scope} was added")

    def _schemes_used(self) -> set[str]:
        requirements = list(self.old.get("security") or [])
        for item in (self.old.get("paths") or {}).values():
            for operation in (item or {}).values():
                if isinstance(operation, dict):
                    requirements += operation.get("security") or []
        return {name for requirement in requirements if isinstance(requirement, dict) for name in requirement}
