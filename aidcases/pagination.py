"""One paginator for every list page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class ListPaginator(Paginator):
    """Counts without the joins that display adds (`select_related`, annotations
    such as a township name): at province scale the page's COUNT is the dearest
    query, and those joins follow non-null foreign keys, so they do not change it.
    `count_queryset` is the same rows without the display extras."""

    def __init__(self, object_list, per_page, *, count_queryset=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_queryset = count_queryset

    @cached_property
    def count(self) -> int:
        qs = self.count_queryset if self.count_queryset is not None else self.object_list
        if hasattr(qs, "select_related"):
            return qs.select_related(None).prefetch_related(None).order_by().count()
        return len(qs)


def paginate(queryset, page_number, *, per_page: int = 50, count_queryset=None):
    return ListPaginator(queryset, per_page, count_queryset=count_queryset).get_page(page_number)
