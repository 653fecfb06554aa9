"""Form widgets."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

SELECTED = mark_safe(" selected")


class FastSelect(forms.Select):
    """A <select> rendered in Python, not one template per <option>.

    A province-level user's township list has ~150 options; Django's per-option
    templates made them the dearest part of the people list page. No optgroups.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        selected = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
        selected.discard("None")
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (
                    option_value,
                    mark_safe(" selected") if str(option_value) in selected else "",
                    label,
                )
                for option_value, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


class FastGroupedSelect(forms.Select):
    """FastSelect with <optgroup>s: choices may be (group label, [(value, label), …]).

    Long grouped lists cost one Django template per option (3,200 options took
    300–450 ms); as one string, a few milliseconds. An area field of a form uses
    aidcases.areapicker instead, which never lists a county's every village."""

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        values = value if isinstance(value, list | tuple) else [value]
        selected = {str(v) for v in values if v is not None}

        def options(choices):
            return format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (option_value, SELECTED if str(option_value) in selected else "", label)
                    for option_value, label in choices
                ),
            )

        parts = []
        for option_value, label in self.choices:
            if isinstance(label, list | tuple):
                parts.append(
                    format_html('<optgroup label="{}">{}</optgroup>', option_value, options(label))
                )
            else:
                parts.append(options([(option_value, label)]))
        body = format_html_join("", "{}", ((part,) for part in parts))  # parts are safe
        return format_html("<select{}>{}</select>", flatatt(final), body)
