from django.urls import reverse
from aidcases import services
from aidcases.models import User


def test_probe(client_for, admin, auditor, officer_a, township_b):
    services.user_update(
        acting_user=admin,
        user=officer_a,
        role=User.Role.TOWNSHIP_OFFICER,
        area=township_b,
        full_name="由管理员修改",
    )
    c = client_for(auditor)
    r = c.get(reverse("history_list"), {"user": admin.pk})
    print("ERR", r.context["filter"].form.errors)
    for e in r.context["page"]:
        print("F", e.pgh_obj_model, e.pgh_label, e.pgh_context, e.user, e.diff_json)
    assert 0
