from aidcases.widgets import FastSelect


def test_fast_select_marks_the_chosen_option_and_escapes_labels():
    widget = FastSelect(choices=[("", "全部"), (1, "城关镇"), (2, "<b>东冶乡</b>")])
    html = widget.render("township", "2", attrs={"id": "id_township", "class": "form-select"})
    assert html.startswith("<select ") and html.endswith("</select>")
    assert 'id="id_township"' in html and 'name="township"' in html
    assert '<option value="1">城关镇</option>' in html
    assert '<option value="2" selected>&lt;b&gt;东冶乡&lt;/b&gt;</option>' in html
    assert html.count(" selected") == 1


def test_fast_select_with_no_value_selects_nothing():
    html = FastSelect(choices=[("", "全部"), (1, "城关镇")]).render("t", None)
    assert " selected" not in html


def test_fast_grouped_select_renders_groups_like_djangos_select():
    from django import forms

    from aidcases.widgets import FastGroupedSelect

    choices = [
        ("", "—请选择—"),
        ("城关镇", [(1, "南街村"), (2, "<北街村>")]),
        ("东冶乡", [(3, "东冶村")]),
    ]
    fast = FastGroupedSelect(choices=choices).render("area", 2, attrs={"id": "id_area"})
    django = forms.Select(choices=choices).render("area", 2, attrs={"id": "id_area"})

    def shape(html):  # the same options, groups and choice, whitespace aside
        inner = "".join(html[html.index("<option") :].split())
        return inner.replace('selected=""', "selected")

    assert shape(fast) == shape(django)
    assert '<option value="2" selected>&lt;北街村&gt;</option>' in fast
    assert fast.count(" selected") == 1
    assert '<optgroup label="城关镇"><option value="1">南街村</option>' in fast
