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
