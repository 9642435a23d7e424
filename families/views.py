from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from documents.checklist import uploadable_kinds
from documents.files import document_response, replace_upload, store_upload, upload_status
from documents.forms import DocumentReplaceForm, DocumentUploadForm
from documents.models import DocumentKind
from extranet.decorators import family_required

from .changes import remember_changes
from .documents import family_checklist
from .editing import StaleEdit, create_guardian, save_versioned
from .forms import FamilyContactForm, GuardianForm
from .models import FamilyDocument, Guardian
from .versions import cached, family_cache_key


def _family_page(request, upload_form=None, status=200):
    family = request.user.family
    # Read only when the cached fragment is missing (see the template).
    guardians = family.guardians.all()
    # Depends on the day too: documents valid for this school year.
    checklist = cached(
        family_cache_key(request, family, "family-checklist", day=timezone.localdate()),
        lambda: family_checklist(family),
    )
    context = {
        "family": family,
        "fragment_key": family_cache_key(request, family, "family-people"),
        "guardians": guardians,
        "checklist": checklist,
        # The checklist lists every kind the family may send: the form's choices.
        "upload_form": upload_form
        or family_upload_form(family, kinds_read=[item.kind for item in checklist]),
    }
    return render(request, "families/family.html", context, status=status)


def family_upload_form(family, *args, kinds_read=None):
    return DocumentUploadForm(
        uploadable_kinds(family.site_id, DocumentKind.Scope.FAMILY), *args, kinds_read=kinds_read
    )


@family_required
@require_safe
def family(request):
    return _family_page(request)


def _edit(request, instance, form_class, template, title):
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            changes, address_changed = save_versioned(form, request)
        except StaleEdit as stale:
            context = {
                "form": form_class(instance=stale.current),
                "title": title,
                "stale_error": _(
                    "Somebody else saved this record while you were editing it. The form now "
                    "shows the current values: enter your changes again, then save."
                ),
            }
            return render(request, template, context, status=409)
        remember_changes(request, changes, address_changed, reverse("families:family"))
        return redirect("families:changes_saved" if changes else "families:family")
    return render(request, template, {"form": form, "title": title})


@family_required
def edit_family(request):
    return _edit(
        request,
        request.user.family,
        FamilyContactForm,
        "families/family_form.html",
        _("Family contacts"),
    )


@family_required
def edit_guardian(request, pk):
    guardian = get_object_or_404(Guardian, pk=pk, family=request.user.family)
    return _edit(request, guardian, GuardianForm, "families/guardian_form.html", str(guardian))


@family_required
def add_guardian(request):
    form = GuardianForm(request.POST or None, instance=Guardian(family=request.user.family))
    if request.method == "POST" and form.is_valid():
        guardian, changes = create_guardian(form, request.user.family, request)
        remember_changes(request, changes, guardian.lives_elsewhere, reverse("families:family"))
        return redirect("families:changes_saved")
    return render(
        request, "families/guardian_form.html", {"form": form, "title": _("New guardian")}
    )


@family_required
@require_safe
def changes_saved(request):
    """The "Éléments modifiés" page, shown once after a save."""
    saved = request.session.pop("last_changes", None)
    if saved is None:
        return redirect("families:family")
    return render(request, "families/changes_saved.html", saved)


@family_required
@require_POST
def upload_document(request):
    family = request.user.family
    form = family_upload_form(family, request.POST, request.FILES)
    if form.is_valid() and store_upload(FamilyDocument(family=family), form, request):
        return redirect("families:family")
    return _family_page(request, upload_form=form, status=upload_status(form))


@family_required
@require_safe
def download_document(request, pk):
    document = get_object_or_404(FamilyDocument, pk=pk, family=request.user.family)
    return document_response(document)


@family_required
def replace_document(request, pk):
    """Another file for a document of the family (see `replace_upload`)."""
    document = get_object_or_404(
        FamilyDocument.objects.select_related("kind"), pk=pk, family=request.user.family
    )
    posted = request.method == "POST"
    form = DocumentReplaceForm(*((request.POST, request.FILES) if posted else ()))
    if posted and form.is_valid() and replace_upload(document, form, request):
        return redirect(document.get_portal_path())
    status = upload_status(form)
    return render(
        request,
        "documents/replace.html",
        {"document": document, "form": form, "back_url": document.get_portal_path()},
        status=status,
    )
