from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from aidcases import access, services
from aidcases.models import Area
from tests.urlwalk import (
    OBJECT_URLS,
    PAGE_URLS,
    PARAM_URLS,
    admin_urls,
    all_routes,
    extend_world,
)


@pytest.fixture
def world(
    county,
    township_a,
    township_b,
    village_a,
    village_b,
    officer_a,
    officer_b,
    admin,
    leader,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        job_b = services.job_start(acting_user=officer_b, kind="demo_echo", params={})
    world = SimpleNamespace(
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a=village_a,
        village_b=village_b,
        officer_a=officer_a,
        officer_b=officer_b,
        admin=admin,
        leader=leader,
        job_b=job_b,
    )
    extend_world(world)
    return world


def test_every_url_pattern_is_walked():
    routes = all_routes(include_admin=True)
    missing = [
        r.name
        for r in routes
        if not r.admin and r.has_args and r.name not in OBJECT_URLS and r.name not in PAGE_URLS
    ]
    assert not missing, f"add these URL names to tests/urlwalk.py OBJECT_URLS: {missing}"
    unnamed = [r.route for r in routes if not r.named and not r.admin]
    assert not unnamed, f"name these URL patterns so that the walk can reach them: {unnamed}"
    assert any(r.admin for r in routes)  # Django admin is walked too (admin_urls)


# Two users of township A: the officer and a team leader (whose township is A too).
OTHERS = ["officer_a", "leader"]


@pytest.mark.parametrize("who", OTHERS)
def test_users_of_another_township_get_404_for_every_object_of_township_b(world, client, who):
    client.force_login(getattr(world, who))
    wrong = []
    for name, spec in OBJECT_URLS.items():
        url = reverse(name, kwargs=spec.kwargs(world))
        response = getattr(client, spec.method)(url)
        want = spec.leader_status if who == "leader" and spec.leader_status else spec.other_status
        if response.status_code != want:
            wrong.append(f"{name} {url} → {response.status_code} (want {want})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("who", OTHERS)
def test_ids_in_query_strings_and_bodies_answer_as_if_missing(world, client, who):
    client.force_login(getattr(world, who))
    wrong = []
    for spec in PARAM_URLS:
        url = reverse(spec.name, kwargs=spec.kwargs(world))
        before = spec.effect(world) if spec.effect else None
        send = getattr(client, spec.method)
        real = send(url, spec.data(world, lambda pk: pk))
        missing = send(url, spec.data(world, lambda pk: 987654321))
        label = f"{spec.method.upper()} {spec.name} {spec.data(world, lambda pk: pk)}"
        if real.status_code not in spec.statuses:
            wrong.append(f"{label} → {real.status_code} (want {spec.statuses})")
        if real.status_code != missing.status_code:
            wrong.append(f"{label} → {real.status_code}, missing id → {missing.status_code}")
        if "东冶" in real.content.decode(errors="replace"):
            wrong.append(f"{label} shows township B's data")
        if spec.effect and spec.effect(world) != before:
            wrong.append(f"{label} changed something")
    assert not wrong, wrong


@pytest.mark.parametrize("who", OTHERS)
def test_list_pages_show_no_row_of_another_township(world, client, who):
    # Every name of township B's world contains 东冶 (东冶乡, 东冶村, 钱东冶, 东冶中学 …);
    # the search box echoes the query, so look for the names around it.
    names = ["东冶乡", "东冶村", "钱东冶", "孙东冶", "周东冶", "东冶中学", "东冶学生", "东冶留守"]
    client.force_login(getattr(world, who))
    leaks = []
    for route in all_routes():
        if route.name in ("healthz", "logout") or (route.has_args and route.name not in PAGE_URLS):
            continue
        kwargs = PAGE_URLS[route.name](world) if route.has_args else {}
        for query in ({}, {"q": "东冶"}, {"q": "dongye"}):
            response = client.get(reverse(route.name, kwargs=kwargs), query)
            html = response.content.decode() if response.status_code == 200 else ""
            leaks += [f"{route.name} {query}: {n}" for n in names if n in html]
    assert not leaks, leaks


@pytest.mark.parametrize("who", [*OTHERS, "officer_b", "county_staff", "auditor"])
def test_django_admin_is_closed_to_every_role_but_system_admin(world, client, who, request):
    user = getattr(world, who, None) or request.getfixturevalue(who)
    client.force_login(user)
    opened = []
    for url in admin_urls():
        response = client.get(url)
        if response.status_code != 404:
            opened.append(f"{url} → {response.status_code}")
    assert not opened, opened


def test_django_admin_sends_anonymous_users_to_the_app_login(world, client):
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), url


def test_django_admin_has_no_history_screen_for_system_admins(world, client):
    client.force_login(world.admin)
    for url in admin_urls(object_id=str(world.admin.groups.get().pk)):
        if url.startswith("/django-admin/r/"):  # "view on site" of a content type: no page
            continue
        response = client.get(url)
        if "/history/" in url or "pghistory" in url:
            assert response.status_code == 404, url
        else:
            # autocomplete answers 403 without its query: no data either way
            assert response.status_code in (200, 302, 403, 404, 405), url
            assert "13800138000" not in response.content.decode(), url


def test_owner_township_officer_gets_the_expected_status(world, client):
    client.force_login(world.officer_b)
    for name, spec in OBJECT_URLS.items():
        url = reverse(name, kwargs=spec.kwargs(world))
        response = getattr(client, spec.method)(url)
        assert response.status_code == spec.owner_status, f"{name} {url} → {response.status_code}"


@pytest.mark.parametrize("who", ["officer_a", "officer_b"])
def test_no_page_without_arguments_errors_for_township_users(world, client, who):
    client.force_login(getattr(world, who))
    for route in all_routes():
        if route.name == "healthz":  # 503 without a worker: its own test
            continue
        if route.has_args and route.name not in PAGE_URLS:
            continue
        kwargs = PAGE_URLS[route.name](world) if route.has_args else {}
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code in (200, 302, 403, 405), (
            f"{route.name} → {response.status_code}"
        )


def test_anonymous_user_is_sent_to_login_everywhere(world, client):
    public = {"login", "healthz"}
    for route in all_routes():
        if route.name in public:
            continue
        if not route.has_args:
            kwargs = {}
        elif route.name in PAGE_URLS:
            kwargs = PAGE_URLS[route.name](world)
        else:
            kwargs = OBJECT_URLS[route.name].kwargs(world)
        response = client.get(reverse(route.name, kwargs=kwargs))
        if response.status_code == 405:  # POST-only endpoints
            response = client.post(reverse(route.name, kwargs=kwargs))
        assert response.status_code == 302, route.name
        assert response["Location"].startswith(reverse("login")), route.name


def test_township_officer_sees_only_own_subtree(world):
    codes = set(access.areas_for(world.officer_a).values_list("code", flat=True))
    assert world.township_a.code in codes and world.village_a.code in codes
    assert world.township_b.code not in codes and world.village_b.code not in codes
    assert world.county.code not in codes


def test_county_roles_see_every_area(world, county_staff, approver, auditor, admin):
    total = Area.objects.count()
    for user in (county_staff, approver, auditor, admin):
        assert access.areas_for(user).count() == total


def test_deactivated_user_sees_nothing(world, county_staff):
    county_staff.is_active = False
    assert access.areas_for(county_staff).count() == 0
    assert access.jobs_for(county_staff).count() == 0


def test_area_q_scopes_a_related_area_field(world):
    from aidcases.models import User

    # Users hang on areas too: a subtree filter through a relation.
    visible = User.objects.filter(access.area_q(world.officer_a, "area"))
    assert world.officer_a in visible and world.officer_b not in visible


def test_dashboard_counts_only_the_users_own_people(client_for, officer_a, village_a, village_b):
    from tests.factories import make_person

    make_person(village_a, name="甲", category="student")
    make_person(village_b, name="乙", category="tekun")
    cards = client_for(officer_a).get(reverse("home")).context["cards"]
    people = next(c for c in cards if c["title"] == "在册帮扶对象")
    assert people["value"] == 1
    assert "困难学生 1" in people["note"] and "特困人员 0" in people["note"]


# --- get_for_user_or_404 scopes by its user itself ---------------------------------------------


def test_get_for_user_or_404_scopes_an_unscoped_queryset_itself(world):
    from django.http import Http404

    from aidcases.models import AidCase, Attachment, Job, Person, User
    from students.models import School

    b_objects = [
        (Person.objects.all(), world.archive_person_b.pk),
        (AidCase.objects.all(), world.people_case_b.pk),
        (Attachment.objects.all(), world.archive_attachment_b.pk),
        (Area.objects.all(), world.village_b.pk),
        (Job.objects.all(), world.job_b.pk),
        (User.objects.all(), world.officer_b.pk),
        (School.objects.all(), world.school_b.pk),
    ]
    for queryset, pk in b_objects:
        with pytest.raises(Http404):
            access.get_for_user_or_404(queryset, world.officer_a, pk=pk)
        # The owner's officer still gets what is theirs (accounts are for admins only).
        if queryset.model is not User:
            assert access.get_for_user_or_404(queryset, world.officer_b, pk=pk).pk == pk
        assert access.get_for_user_or_404(queryset, world.admin, pk=pk).pk == pk


def test_get_for_user_or_404_refuses_a_model_it_cannot_scope(world):
    from django.contrib.auth.models import Group
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        access.get_for_user_or_404(Group.objects.all(), world.admin, pk=1)
