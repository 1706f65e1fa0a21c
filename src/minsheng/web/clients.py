"""Who a request comes from, for the fair shares: the peer address, or what a trusted proxy says it saw.

X-Forwarded-For is believed only when the peer is a configured trusted proxy (`--trusted-proxy`); then the
client is the right-most address in it that is not itself a trusted proxy, the last hop anyone vouches for.
Any other peer could write anything there, so its header is ignored.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import request

from minsheng.web.service import service


def client_address() -> str:
    trusted = service().settings.trusted_proxies
    return client_of(request.remote_addr or "unknown", request.headers.get("X-Forwarded-For", ""), trusted)


def client_of(peer: str, forwarded: str, trusted: Collection[str]) -> str:
    """The client of a request from `peer` with this X-Forwarded-For (repeated headers joined by commas):
    the fast path's, without a Flask request, and the Flask path's."""
    if peer not in trusted:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return peer


def forwarded_scheme() -> str | None:
    """X-Forwarded-Proto from a trusted proxy, else None."""
    if (request.remote_addr or "") in service().settings.trusted_proxies:
        return request.headers.get("X-Forwarded-Proto")
    return None
