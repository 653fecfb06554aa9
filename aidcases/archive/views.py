"""The 一人一档 archive page, revealing masked identifiers, and attachments."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aidcases import access, archive, attachments, pii, selectors, services
from aidcases.archive.forms import AttachmentForm
from aidcases.models import Attachment, AuditEvent, Person

VIEW_THROTTLE = timedelta(minutes=10)
REVEALABLE = ("id_number", "phone", "guardian_phone")


def _record_view(user, person: Person) -> None:
    """One "person.view" per user per person per 10 minutes: reloads and the
    reveal round-trips do not flood the log, a later visit is recorded again."""
    recent = AuditEvent.objects.filter(
        actor=user,
        verb="person.view",
        object_type=ContentType.objects.get_for_model(Person),
        object_id=str(person.pk),
        at__gte=timezone.now() - VIEW_THROTTLE,
    )
    if not recent.exists():
        services.person_record_view(acting_user=user, person=person)


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if not user.has_perm("aidcases.view_person"):
        raise PermissionDenied
    person = selectors.person_for_user_or_404(user=user, pk=pk)
    _record_view(user, person)
    sections = []
    for section, data in archive.render_data(person, user):
        html = render_to_string(
            section.template,
            {"person": person, "section": section, "data": data, "user": user},
            request=request,
        )
        # A registered section with nothing to say still shows its title.
        sections.append((section, html, not html.strip()))
    photo = person.photo if person.photo_id and person.photo.is_active else None
    editable = user.has_perm("aidcases.change_person")
    return render(
        request,
        "aidcases/archive/person_detail.html",
        {
            "person": person,
            "photo": photo,
            "area_name": person.area.full_name(),
            "masked_id": person.masked_id_number,
            "masked_phone": pii.mask_phone(person.phone) if person.phone else "",
            "masked_guardian_phone": (
                pii.mask_phone(person.guardian_phone) if person.guardian_phone else ""
            ),
            "can_reveal_id": user.has_perm("aidcases.reveal_id_number"),
            "can_reveal_phone": user.has_perm("aidcases.reveal_phone"),
            "edit_url": (
                reverse("person_edit", args=[person.pk])
                if editable and not person.merged_into_id
                else None
            ),
            "list_url": reverse("person_list"),
            "sections": sections,
            "printed_at": timezone.localtime(),
        },
    )


@login_required
@require_POST
def person_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    if field not in REVEALABLE:
        raise Http404
    person = selectors.person_for_user_or_404(user=request.user, pk=pk)
    value = services.person_reveal(acting_user=request.user, person=person, field_name=field)
    response = HttpResponse(
        format_html(
            '<span class="font-monospace revealed" data-testid="revealed-{}">{}</span>',
            field,
            value or "—",
        )
    )
    response["Cache-Control"] = "no-store"
    return response


# --- attachments ----------------------------------------------------------------


def _archive_url(person_pk: int, anchor: str = "section-attachments") -> str:
    return f"{reverse('person_detail', args=[person_pk])}#{anchor}"


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_for_user_or_404(user=request.user, pk=pk)
    if not request.user.has_perm("aidcases.change_person"):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES, person=person)
    if form.is_valid():
        data = form.cleaned_data
        try:
            attachment = services.attachment_add(
                acting_user=request.user,
                person=person,
                upload=data["file"],
                kind=data["kind"],
                title=data["title"],
                case=data["case"],
                set_as_photo=data["set_as_photo"],
            )
        except ValidationError as exc:
            messages.error(request, _("上传失败：") + "；".join(exc.messages))
        else:
            messages.success(request, _("已上传“%(name)s”。") % {"name": attachment})
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, _("上传失败：") + "；".join(errors))
    return redirect(_archive_url(person.pk))


def _attachment_or_404(request: HttpRequest, pk: int) -> Attachment:
    return access.get_for_user_or_404(
        attachments.attachments_for(request.user), request.user, pk=pk
    )


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = _attachment_or_404(request, pk)
    is_image = attachment.content_type in attachments.IMAGE_TYPES
    thumbnail = is_image and request.GET.get("thumb") == "1"
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    services.attachment_record_download(
        acting_user=request.user, attachment=attachment, thumbnail=thumbnail
    )
    # Images show in the browser (the photo thumbnail); everything else, PDFs
    # included, is a download: a PDF rendered in our origin is not worth the risk.
    response = FileResponse(
        handle,
        as_attachment=not is_image,
        filename=attachments.download_name(attachment),
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = _attachment_or_404(request, pk)
    services.attachment_remove(acting_user=request.user, attachment=attachment)
    messages.success(request, _("已删除附件“%(name)s”。") % {"name": attachment})
    return redirect(_archive_url(attachment.person_id))


@login_required
@require_POST
def attachment_set_photo(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = _attachment_or_404(request, pk)
    try:
        services.person_set_photo(
            acting_user=request.user, person=attachment.person, attachment=attachment
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("已设为本人照片。"))
    return redirect(_archive_url(attachment.person_id, "archive-header"))
