"""The area picker: a township <select>, then the villages of that township.

A county (or province) user's scope holds thousands of villages: one <select> of
all of them made every person and user form 150–230 KB of HTML (200 ms and more
to render at province scale). The picker lists the townships (a few hundred at
most) and loads, with htmx, the villages of the township chosen — with their
hamlets and groups where the field takes them (`area_options`, one small
request). A user whose scope holds one township (a township officer) sees that
township's areas in one <select>, as before.

Any form field that stores an Area uses it (the person form, the user form, the
volunteers' team and home areas):

    home_area = AreaPickerField(label=_("家庭所在村(社区)"), levels=AreaPickerField.VILLAGES)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_area"].limit_to(user)

`levels` are the levels the value may have: with "township" (or "county") among
them the upper <select>'s choice may stand alone. The cleaned value is an Area in
the field's queryset (`limit_to(user)`: the user's scope) at one of those levels,
or a form error — the server decides; the HTML only helps.

Without JavaScript: the user chooses a township and saves; the form comes back
with an error asking for the village and that township's villages listed. A bound
form re-renders with both choices kept. The form data are `<name>` (the chosen
area; any level, so a plain `area=<id>` post works) and `<name>_parent` (the
upper <select>), which counts only when `<name>` is empty or not below it (the
township was changed after the villages were loaded).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from aidcases import access
from aidcases.models import Area

L = Area.Level
UPPER_LEVELS = (L.COUNTY, L.TOWNSHIP)
LOWER_LEVELS = (L.VILLAGE, L.HAMLET, L.GROUP)
PARENT_SUFFIX = "_parent"
_SELECTED = mark_safe(" selected")
_INDENT = "　"  # a full-width space per level below the village


def _ids(value) -> tuple[str, str]:
    """(upper, lower) as submitted, or ("", id) for an initial Area or id."""
    if isinstance(value, list | tuple):
        upper, lower = (list(value) + ["", ""])[:2]
    else:
        upper, lower = "", value
    if isinstance(lower, Area):
        lower = lower.pk
    return str(upper or "").strip(), str(lower or "").strip()


def _options(rows, selected: str) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((pk, _SELECTED if str(pk) == selected else "", label) for pk, label in rows),
    )


def lower_options(areas, parent: Area | None, levels, *, selected: str = "") -> list:
    """(pk, label) of the areas below `parent` (a township) at `levels`, hamlets
    and groups indented under their village."""
    if parent is None or parent.level != L.TOWNSHIP:
        return []
    rows = (
        areas.select_related(None)
        .filter(path__startswith=parent.path, level__in=levels)
        .exclude(pk=parent.pk)
        .order_by("path")
        .values_list("pk", "name", "path")
    )
    base = parent.path.count("/") + 1  # a village's path has one code more
    return [(pk, f"{_INDENT * (path.count('/') - base)}{name}") for pk, name, path in rows]


def _blank(*, parent: Area | None, upper_may_stand: bool) -> str:
    if parent is None:
        return str(_("—请先选择乡(镇)—"))
    if parent.level == L.COUNTY:
        return str(_("—县级，不选村—"))
    if upper_may_stand:
        return str(_("—不选，即整个乡(镇)—"))
    return str(_("—请选择—"))


def render_lower_options(rows, *, blank: str, selected: str = "") -> SafeString:
    return format_html('<option value="">{}</option>{}', blank, _options(rows, selected))


class AreaPickerWidget(forms.Select):
    """Renders an AreaPickerField (see the module docstring); it is a Select for
    crispy's sake (form-select, is-invalid)."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.picker: AreaPickerField | None = None  # set by the field

    def value_from_datadict(self, data, files, name):
        return (data.get(name + PARENT_SUFFIX, ""), data.get(name, ""))

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + PARENT_SUFFIX not in data

    def format_value(self, value):
        return value

    def render(self, name, value, attrs=None, renderer=None):
        return self.picker.render_html(name, value, self.build_attrs(self.attrs, attrs))


class AreaPickerField(forms.Field):
    """An Area chosen township first, then village (see the module docstring)."""

    widget = AreaPickerWidget
    VILLAGES = LOWER_LEVELS  # a village, or a hamlet/group below it
    default_error_messages = {
        "invalid_choice": _("请选择有效的区域。"),
        "incomplete": _("请在所选乡(镇)下选择村(社区)。"),
    }

    def __init__(self, *, levels, queryset=None, **kwargs):
        super().__init__(**kwargs)
        self.levels = tuple(levels)
        self.queryset = Area.objects.all() if queryset is None else queryset
        self.widget.picker = self

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.widget.picker = result
        return result

    def limit_to(self, user) -> None:
        """Only the areas in `user`'s scope (access.areas_for)."""
        self.queryset = access.areas_for(user)

    @property
    def lower_levels(self) -> tuple[str, ...]:
        return tuple(level for level in self.levels if level in LOWER_LEVELS)

    def _found(self, upper: str, lower: str) -> tuple[Area | None, Area | None] | None:
        """The submitted areas in the queryset; None when one is not there."""
        wanted = [v for v in (upper, lower) if v]
        if not all(v.isdigit() for v in wanted):
            return None
        found = {a.pk: a for a in self.queryset.select_related(None).filter(pk__in=wanted)}
        up = found.get(int(upper)) if upper else None
        low = found.get(int(lower)) if lower else None
        if (upper and up is None) or (lower and low is None):
            return None
        return up, low

    def to_python(self, value) -> Area | None:
        upper, lower = _ids(value)
        if not (upper or lower):
            return None
        found = self._found(upper, lower)
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        up, low = found
        # The lower choice counts unless the upper one was changed after it
        # (no JavaScript: the villages listed were another township's).
        area = low if low is not None and (up is None or low.is_within(up)) else up
        if area.level not in self.levels:
            code = "incomplete" if area.level in UPPER_LEVELS else "invalid_choice"
            raise ValidationError(self.error_messages[code], code=code)
        return area

    def prepare_value(self, value):
        return value.pk if isinstance(value, Area) else value

    def has_changed(self, initial, data) -> bool:
        upper, lower = _ids(data)
        return str(self.prepare_value(initial) or "") != (lower or upper)

    # --- rendering ------------------------------------------------------------

    def render_html(self, name: str, value, attrs: dict) -> SafeString:
        upper_id, lower_id = _ids(value)
        areas = self.queryset.select_related(None)
        uppers = list(
            areas.filter(level__in=UPPER_LEVELS)
            .order_by("path")
            .values_list("pk", "code", "name", "level", "path")
        )
        townships = [u for u in uppers if u[3] == L.TOWNSHIP]
        if len(townships) <= 1 and not any(u[3] == L.COUNTY for u in uppers):
            return self._render_direct(name, areas, lower_id or upper_id, attrs)
        found = self._found(upper_id, lower_id) or (None, None)
        up, low = found
        chosen = low if low is not None and (up is None or low.is_within(up)) else up
        parent = None  # the upper <select>'s choice
        if chosen is not None:
            codes = chosen.path.strip("/").split("/")
            by_code = {u[1]: u for u in uppers}
            ancestor = next((by_code[c] for c in reversed(codes) if c in by_code), None)
            if ancestor is not None:
                pk, code, area_name, level, path = ancestor
                parent = Area(pk=pk, code=code, name=area_name, level=level, path=path)
        lower_selected = str(chosen.pk) if chosen is not None and chosen != parent else ""
        css = attrs.get("class", "form-select")
        lower_attrs = {**attrs, "name": name, "class": css}
        url = (
            reverse("area_options")
            + "?"
            + urlencode(
                {
                    "from": name + PARENT_SUFFIX,
                    "levels": ",".join(self.lower_levels),
                    "upper": "1" if L.TOWNSHIP in self.levels else "",
                }
            )
        )
        upper_attrs = {
            "name": name + PARENT_SUFFIX,
            "id": f"{attrs['id']}{PARENT_SUFFIX}" if attrs.get("id") else None,
            "class": css,
            "aria-label": _("乡(镇)"),
            "hx-get": url,
            "hx-target": f"#{attrs['id']}" if attrs.get("id") else None,
            "hx-trigger": "change",
            "hx-swap": "innerHTML",
        }
        lower = render_lower_options(
            lower_options(areas, parent, self.lower_levels),
            blank=_blank(parent=parent, upper_may_stand=L.TOWNSHIP in self.levels),
            selected=lower_selected,
        )
        invalid = " is-invalid" if "is-invalid" in css else ""
        return format_html(
            '<div class="row g-2 area-picker{}">'
            '<div class="col-sm-5"><select{}>{}</select></div>'
            '<div class="col-sm-7"><select{}>{}</select></div></div>',
            invalid,
            flatatt({k: v for k, v in upper_attrs.items() if v is not None}),
            self._upper_options(uppers, parent.pk if parent else None),
            flatatt(lower_attrs),
            lower,
        )

    def _upper_options(self, uppers, selected) -> SafeString:
        counties = [u for u in uppers if u[3] == L.COUNTY]
        county_may_stand = L.COUNTY in self.levels
        blank = _("—不指定—") if not self.required else _("—请选择乡(镇)—")
        selected = str(selected or "")
        groups = []
        for county in counties or [None]:
            rows = []
            if county is not None and county_may_stand:
                rows.append((county[0], f"{county[2]}（{_('县级')}）"))
            rows += [
                (u[0], u[2])
                for u in uppers
                if u[3] == L.TOWNSHIP and (county is None or u[4].startswith(county[4]))
            ]
            options = _options(rows, selected)
            if county is not None and len(counties) > 1:
                options = format_html('<optgroup label="{}">{}</optgroup>', county[2], options)
            groups.append(options)
        return format_html(
            '<option value="">{}</option>{}',
            blank,
            format_html_join("", "{}", ((g,) for g in groups)),
        )

    def _render_direct(self, name, areas, selected: str, attrs: dict) -> SafeString:
        """One <select> of every area the field takes in a one-township scope."""
        rows = list(
            areas.filter(level__in=self.levels).order_by("path").values_list("pk", "name", "path")
        )
        top = min((path.count("/") for _pk, _name, path in rows), default=0)
        options = [(pk, f"{_INDENT * (path.count('/') - top)}{name}") for pk, name, path in rows]
        return format_html(
            "<select{}>{}</select>",
            flatatt({**attrs, "name": name}),
            render_lower_options(options, blank=str(_("—请选择—")), selected=selected),
        )


@login_required
@require_GET
def area_options(request: HttpRequest) -> HttpResponse:
    """htmx: the lower <option>s of an area picker for the township chosen in
    the parameter named by `from`, within the user's scope."""
    levels = [v for v in request.GET.get("levels", "").split(",") if v in LOWER_LEVELS]
    parent_id = request.GET.get(request.GET.get("from", ""), "")
    areas = access.areas_for(request.user).select_related(None)
    parent = (
        areas.filter(pk=parent_id, level__in=UPPER_LEVELS).first() if parent_id.isdigit() else None
    )
    rows = lower_options(areas, parent, levels or [L.VILLAGE])
    blank = _blank(parent=parent, upper_may_stand=request.GET.get("upper") == "1")
    return HttpResponse(render_lower_options(rows, blank=blank))
