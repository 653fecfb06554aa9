"""Finding a township's village (行政村/社区) by the names people write in a file: the exact
name, the name inside a longer address ("城关镇南街村三组"), or the name without 村/社区
("南街"). Every import that names villages (rosters, visit records) uses it."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from aidcases.importing.cells import cell_text
from aidcases.models import Area

_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "社区", "村")


def _base_name(name: str) -> str:
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class VillageMatcher:
    """Villages of one township by name; also found inside a longer address
    ("城关镇南街村三组"), or by the name without 村/社区 ("南街")."""

    def __init__(self, township: Area) -> None:
        self.township = township
        self.villages = list(
            Area.objects.filter(parent=township, level=Area.Level.VILLAGE, is_active=True).order_by(
                "code"
            )
        )
        self._names = [(self.key(v.name), v) for v in self.villages]
        self._cache: dict[str, tuple[Area | None, str]] = {}

    @staticmethod
    def key(text: str) -> str:
        return re.sub(r"\s+", "", cell_text(text))

    def match(self, text: str) -> tuple[Area | None, str]:
        """(village, "") or (None, the Chinese reason)."""
        key = self.key(text)
        if key not in self._cache:
            self._cache[key] = self._match(key, text)
        return self._cache[key]

    def _match(self, key: str, shown: str) -> tuple[Area | None, str]:
        exact = [v for name, v in self._names if name == key]
        if len(exact) == 1:
            return exact[0], ""
        for candidates in (
            [(name, v) for name, v in self._names if name in key],
            [(_base_name(name), v) for name, v in self._names if _base_name(name) in key],
        ):
            if not candidates:
                continue
            longest = max(len(name) for name, _v in candidates)
            best = {v.pk: v for name, v in candidates if len(name) == longest}
            if len(best) == 1:
                return next(iter(best.values())), ""
            names = "、".join(v.name for v in best.values())
            return None, _(
                "“%(value)s”可能是以下几个村(社区)中的任何一个：%(names)s，请写明是哪一个"
            ) % {
                "value": shown,
                "names": names,
            }
        known = "、".join(v.name for v in self.villages[:12])
        if len(self.villages) > 12:
            known += _("等")
        message = _("%(township)s没有名为“%(value)s”的村(社区)，请核对村名") % {
            "township": self.township.name,
            "value": shown,
        }
        if known:
            message += _("（本乡镇的村(社区)有：%(names)s）") % {"names": known}
        else:
            message += _("（系统中%(township)s还没有登记村(社区)，请先导入行政区划）") % {
                "township": self.township.name
            }
        return None, message
