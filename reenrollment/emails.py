"""E-mails of the re-enrollment: one function per e-mail, each queued for
after the commit."""

from django.urls import reverse

from extranet.mail import build_message, enqueue
from families.emails import family_address

from .queries import next_year_schedule, not_granted, request_summary


def _context(request, base_url):
    family = request.student.family
    return {
        "request": request,
        "student": request.student,
        "family": family,
        "site": family.site,
        "campaign": request.campaign,
        "year": request.campaign.school_year,
        "portal_url": f"{base_url}{reverse('reenrollment:index')}",
        **request_summary(request),
    }


def _to_family(request, template, context):
    """Queued to the family's address, which is returned ("" for none)."""
    family = request.student.family
    to = family_address(family)
    if to:
        enqueue(build_message(template, context, [to], reply_to=family.site.email))
    return to


def request_sent(request, base_url):
    """To the family, a summary; to the secretariat, the same with a link to
    the request in the admin."""
    context = _context(request, base_url)
    _to_family(request, "reenrollment/emails/sent_family", context)
    site = request.student.family.site
    if site.email:
        admin_path = reverse("admin:reenrollment_reenrollmentrequest_change", args=[request.pk])
        context = {
            **context,
            "admin_url": f"{base_url}{admin_path}",
            "family_email": family_address(request.student.family),
        }
        enqueue(
            build_message(
                "reenrollment/emails/sent_secretariat",
                context,
                [site.email],
                reply_to=context["family_email"] or None,
            )
        )


def request_incomplete(request, base_url):
    _to_family(request, "reenrollment/emails/incomplete", _context(request, base_url))


def request_refused(request, base_url):
    _to_family(request, "reenrollment/emails/refused", _context(request, base_url))


def request_validated(request, courses, base_url):
    """Per course: day, time and room of collective lessons, the
    parent–teacher meeting of instrument lessons, the methods to buy; the
    wishes not granted, with the secretariat's answer."""
    context = _context(request, base_url)
    context.update(next_year_schedule(courses))
    context["not_granted"] = not_granted(context["continued"] + context["new"])
    _to_family(request, "reenrollment/emails/validated", context)


def enrolled_from_waiting_list(request, course, base_url):
    """A place freed up in `course`, waited for: the student has it. Returns
    the address told, "" when the family has none."""
    family = request.student.family
    context = {
        "request": request,
        "student": request.student,
        "family": family,
        "site": family.site,
        "course": course,
        "year": course.school_year,
        "portal_url": f"{base_url}{reverse('reenrollment:index')}",
    }
    return _to_family(request, "reenrollment/emails/waiting_enrolled", context)
