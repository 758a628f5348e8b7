"""Which ``Host`` (and ``Origin``) a request may name: an allow-list bound to ``--host``.

A web page from another site can make the browser send requests to the playground under that
site's own name, after pointing the name at 127.0.0.1 (DNS rebinding). The browser still sends
the attacker's name in ``Host``, so requests whose ``Host`` is not a name of this server are
refused; so are cross-site requests (an ``Origin`` naming another host).

Accepted: an IP address the server listens on (any address when it listens on all of them, such
as 0.0.0.0), ``localhost`` when it listens on a loopback or every address, this machine's host
name when it listens beyond loopback, and every name given with ``--allow-host``.
"""

import ipaddress
import socket
import urllib.parse

from starlette.responses import JSONResponse

WILDCARDS = ("0.0.0.0", "::", "")


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def host_name(header):
    """The host of a ``Host`` header value, lower case, without port or brackets."""
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        return header[1:header.find("]")] if "]" in header else header
    if header.count(":") == 1:
        header = header.split(":")[0]
    return header.rstrip(".")


class HostCheck:
    """``check(name)`` is True when requests may name this server ``name`` (see the module docstring)."""

    def __init__(self, bind_host, extra=()):
        self.bind = bind_host.strip("[]").lower()
        self.bind_ip = _ip(self.bind)
        self.wildcard = self.bind in WILDCARDS
        self.loopback = self.bind == "localhost" or bool(self.bind_ip and self.bind_ip.is_loopback)
        self.names = {host_name(name) for name in extra}
        if not self.bind_ip and not self.wildcard:
            self.names.add(self.bind)  # --host given as a name
        if not self.loopback:
            self.names.update(n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n)

    def __call__(self, name):
        if name in self.names:
            return True
        ip = _ip(name)
        if ip is not None:
            return self.wildcard or ip == self.bind_ip or (self.loopback and ip.is_loopback)
        return (self.loopback or self.wildcard) and (name == "localhost" or name.endswith(".localhost"))


class HostGuard:
    """ASGI middleware: a JSON 400 to a request whose ``Host`` fails ``check``, 403 to one whose
    ``Origin`` does (requests without those headers pass: no browser sends them)."""

    def __init__(self, app, check):
        self.app, self.check = app, check

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
                       if k in (b"host", b"origin")}
            host, origin = headers.get("host"), headers.get("origin")
            refusal = None
            if host is not None and not self.check(host_name(host)):
                refusal = (400, f"this server does not answer to the host name {host_name(host)!r}; start it with "
                                f"--allow-host {host_name(host)} if that is its name on your network")
            elif origin not in (None, "null") and not self.check(host_name(urllib.parse.urlsplit(origin).netloc)):
                refusal = (403, f"requests from pages of {origin} are not accepted")
            if refusal is not None:
                status, message = refusal
                response = JSONResponse({"error": message, "status": status}, status, headers={"Connection": "close"})
                return await response(scope, receive, send)
        await self.app(scope, receive, send)
