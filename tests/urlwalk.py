"""Walk every URL pattern as users of two townships.

Each URL that takes an argument needs an entry in `OBJECT_URLS`: how to build
the arguments that point at *township B's* object. The walk then checks that
officer A gets 403/404 for it (never the page), and that officer B — to whom the
object belongs — gets `owner_status`. A new URL pattern without an entry fails
`test_every_url_pattern_is_walked`, so later issues must extend this file when
they add views (arguments that name no object, such as an import kind, go in `PAGE_URLS`).
"""

from __future__ import annotations

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


# url name → how to reach township B's object. Extend when adding views.
OBJECT_URLS: dict[str, ObjectUrl] = {
    "area_detail": ObjectUrl(lambda w: {"code": w.township_b.code}),
    "user_edit": ObjectUrl(lambda w: {"pk": w.officer_b.pk}, owner_status=403),
    "user_password": ObjectUrl(lambda w: {"pk": w.officer_b.pk}, owner_status=403),
    "user_set_active": ObjectUrl(lambda w: {"pk": w.officer_b.pk}, owner_status=403, method="post"),
    "job_detail": ObjectUrl(lambda w: {"pk": w.job_b.pk}),
    "job_download": ObjectUrl(lambda w: {"pk": w.job_b.pk}),
}


# Pages whose arguments name no object of anyone's (an import kind's slug): walked like the
# pages without arguments. url name → world → kwargs.
PAGE_URLS: dict[str, Callable[[Any], dict]] = {}


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
            modules.append(module)
    return modules


EXTENSIONS = _load_extensions()


def extend_world(world) -> None:
    """Let each extension add township-B objects (world.person_b …)."""
    for module in EXTENSIONS:
        if hasattr(module, "extend_world"):
            module.extend_world(world)


# Namespaces with their own gatekeeping (Django admin: staff only).
SKIPPED_NAMESPACES = {"admin"}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    has_args: bool


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace in SKIPPED_NAMESPACES:
                    continue
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                has_args = bool(p.pattern.regex.groupindex) or "<" in str(p.pattern)
                routes.append(Route(name=name, route=prefix + str(p.pattern), has_args=has_args))

    walk(get_resolver().url_patterns, "", None)
    return routes
