"""Walk every URL pattern as users of two townships.

Each URL that takes an argument needs an entry in `OBJECT_URLS`: how to build
the arguments that point at *township B's* object. The walk then checks that the
users of township A — officer A and a team leader — get `other_status` for it
(404: out of scope is answered as "does not exist"; 403 only where the entry says
so, for a page their role may never use whatever the id), and that officer B — to
whom the object belongs — gets `owner_status`. A new URL pattern without an entry
fails `test_every_url_pattern_is_walked`, so later issues must extend this file when
they add views (arguments that name no object, such as an import kind, go in `PAGE_URLS`).

Ids that arrive in a query string or a POST body go in `PARAM_URLS`: each is sent
once with township B's id and once with an id that does not exist; the two answers
must be the same (so nothing tells that B's object exists), what the entry expects,
and without effect. Django admin's patterns (named or not) are walked by
`admin_urls()`: system admins only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class ObjectUrl:
    # world → kwargs pointing at township B's object
    kwargs: Callable[[Any], dict]
    # what township B's own officer gets (403 where the role may not use the page at all)
    owner_status: int = 200
    method: str = "get"
    # what a user of township A (officer, team leader) gets
    other_status: int = 404
    # where a team leader is told otherwise: 403 for a page their role may never use, which
    # is the same answer whatever the id (nothing tells that B's object exists)
    leader_status: int | None = None


@dataclass(frozen=True)
class ParamUrl:
    """A request naming township B's object in its query string or POST body.

    `data(world, pick)` builds the query/body; wrap every id of B's in `pick(...)`, which
    gives it back as is, or as an id that does not exist for the comparison request.
    `effect(world)` returns something that must not change (a count of rows)."""

    name: str
    data: Callable[[Any, Callable[[Any], Any]], dict]
    method: str = "get"
    kwargs: Callable[[Any], dict] = lambda w: {}
    statuses: tuple[int, ...] = (404,)
    effect: Callable[[Any], Any] | None = None


# url name → how to reach township B's object. Extend when adding views.
OBJECT_URLS: dict[str, ObjectUrl] = {
    "area_detail": ObjectUrl(lambda w: {"code": w.township_b.code}),
    # Accounts are managed by system admins only: every other role is told "no permission"
    # whatever the id (tests/aidcases/test_users.py), so 403 says nothing about B's account.
    "user_edit": ObjectUrl(lambda w: {"pk": w.officer_b.pk}, owner_status=403, other_status=403),
    "user_password": ObjectUrl(
        lambda w: {"pk": w.officer_b.pk}, owner_status=403, other_status=403
    ),
    "user_set_active": ObjectUrl(
        lambda w: {"pk": w.officer_b.pk}, owner_status=403, other_status=403, method="post"
    ),
    "job_detail": ObjectUrl(lambda w: {"pk": w.job_b.pk}),
    "job_download": ObjectUrl(lambda w: {"pk": w.job_b.pk}),
}


# Pages whose arguments name no object of anyone's (an import kind's slug): walked like the
# pages without arguments. url name → world → kwargs.
PAGE_URLS: dict[str, Callable[[Any], dict]] = {}

# Ids in query strings and POST bodies. Extensions add theirs.
PARAM_URLS: list[ParamUrl] = []


def _load_extensions() -> list:
    """tests/urlwalk_*.py modules add their URL entries and world objects."""
    import importlib
    import pkgutil

    import tests

    modules = []
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("urlwalk_"):
            module = importlib.import_module(f"tests.{info.name}")
            OBJECT_URLS.update(getattr(module, "OBJECT_URLS", {}))
            PAGE_URLS.update(getattr(module, "PAGE_URLS", {}))
            PARAM_URLS.extend(getattr(module, "PARAM_URLS", []))
            modules.append(module)
    return modules


EXTENSIONS = _load_extensions()


def extend_world(world) -> None:
    """Let each extension add township-B objects (world.person_b …)."""
    for module in EXTENSIONS:
        if hasattr(module, "extend_world"):
            module.extend_world(world)


# Django admin: its own walk (`admin_urls`), every pattern named or not.
ADMIN_NAMESPACES = {"admin"}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    has_args: bool
    # unnamed patterns cannot be reversed: `name` is then the route itself
    named: bool = True
    admin: bool = False


def all_routes(*, include_admin: bool = False) -> list[Route]:
    """Every URL pattern, named or not; Django admin's only with `include_admin`."""
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str | None, admin: bool) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                inside = admin or p.namespace in ADMIN_NAMESPACES
                if inside and not include_admin:
                    continue
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace, inside)
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                name = (f"{namespace}:{p.name}" if namespace else p.name) if p.name else route
                has_args = bool(p.pattern.regex.groupindex) or "<" in str(p.pattern)
                routes.append(Route(name, route, has_args, named=bool(p.name), admin=admin))

    walk(get_resolver().url_patterns, "", None, False)
    return routes


def admin_urls(object_id: str = "1") -> list[str]:
    """A concrete URL for every Django admin pattern (arguments filled with `object_id`,
    an app label where the pattern lists them)."""
    urls = []
    for route in all_routes(include_admin=True):
        if not route.admin:
            continue
        path = route.route.replace("(?P<url>.*)$", "no-such-page/")
        path = re.sub(r"\^\(\?P<app_label>(\w+)[^)]*\)/\$", r"\1/", path)
        path = re.sub(r"<(?:\w+:)?\w+>", object_id, path)
        urls.append("/" + path)
    return urls
