"""Messages to families: written once in the admin, sent to the families of a
course, a discipline, a teacher, a level or the whole site, through the task
worker, once; what was sent to whom is logged."""

from datetime import date, timedelta
from email.header import decode_header, make_header

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from messaging import audiences, sending
from messaging.models import Delivery, Message
from students.models import Enrollment

from . import clock
from .factories import make_parent, payer, school_year, signed_in, staff, structure, student
from .mail_sink import SMTPSink

PERMISSIONS = ["view_message", "add_message", "change_message", "delete_message"]
Audience = Message.Audience
FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


@pytest.fixture
def world(combs, ploufragan):
    """This year at Combs-la-Ville: Martin (two children in Wednesday's
    formation musicale, Léa also in dance), Durand (no e-mail, a guardian
    with a mobile; formation musicale), Petit (piano, level Cycle 1 as a
    student), Bernard (Thursday's formation musicale, no level on the
    course, Cycle 1 as a student); Leroy only last year; Moreau stopped
    dance in October. Le Goff at Ploufragan."""
    year = school_year(combs)
    base = structure(combs, year)
    fm, piano, dance, fm_thursday = base["courses"]
    last_year = school_year(combs, clock.THIS_YEAR - 1)
    old = structure(combs, last_year)["courses"][0]

    def family(name, email=None, **fields):
        account = make_parent(combs, username=name.lower(), family_name=name, email=email)
        for field, value in fields.items():
            setattr(account.family, field, value)
        account.family.save()
        return account.family

    martin = family("Martin", reference_email="famille.martin@example.org")
    student(martin, "Léa", courses=[fm, dance])
    student(martin, "Hugo", courses=[fm])
    durand = family("Durand", email="")
    payer(durand, first_name="Paul", mobile_phone="+33612345678", home_phone="+33164887701")
    student(durand, "Zoé", courses=[fm])
    petit = family("Petit")
    Enrollment.objects.create(
        student=student(petit, "Inès"), course=piano, level="Cycle 1", starts_on=None
    )
    bernard = family("Bernard")
    Enrollment.objects.create(
        student=student(bernard, "Chloé"), course=fm_thursday, level="Cycle 1"
    )
    leroy = family("Leroy")
    student(leroy, "Tom", courses=[old])
    moreau = family("Moreau")
    Enrollment.objects.create(
        student=student(moreau, "Jade"), course=dance, stops_on=clock.TODAY - timedelta(days=30)
    )
    plouf_year = school_year(ploufragan)
    plouf = structure(ploufragan, plouf_year)
    legoff = make_parent(ploufragan, family_name="Le Goff").family
    student(legoff, "Maëlys", courses=plouf["courses"])
    return {
        **base,
        "families": {f.name: f for f in [martin, durand, petit, bernard, leroy, moreau, legoff]},
        "plouf": plouf,
        "old": old,
    }


def message(site, audience=Audience.SITE, **fields):
    values = {"subject": "Concert de Noël", "body": "Bonjour à tous.", "audience": audience}
    values.update(fields)
    return Message.objects.create(site=site, **values)


def names(found):
    return {recipient.family.name for recipient in found}


@pytest.fixture
def secretary(combs):
    return staff(combs, PERMISSIONS)


@pytest.fixture
def secretary_client(secretary):
    return signed_in(secretary)


def send_url(msg):
    return reverse("admin:messaging_message_send", args=[msg.pk])


def change_url(msg):
    return reverse("admin:messaging_message_change", args=[msg.pk])


# Audiences.


def test_each_audience_picks_exactly_its_families(world, combs):
    fm, piano, _dance, _thursday = world["courses"]
    expected = [
        (Audience.COURSE, {"course": fm}, {"Martin", "Durand"}),
        (Audience.DISCIPLINE, {"discipline": world["piano"]}, {"Petit"}),
        (Audience.DISCIPLINE, {"discipline": world["fm"]}, {"Martin", "Durand", "Bernard"}),
        (Audience.TEACHER, {"teacher": fm.teacher}, {"Martin", "Durand", "Petit"}),
        # The course's level, or the student's own in an individual lesson.
        (Audience.LEVEL, {"level": "Cycle 1"}, {"Martin", "Durand", "Petit", "Bernard"}),
        (Audience.SITE, {}, {"Martin", "Durand", "Petit", "Bernard"}),
    ]
    for audience, target, families in expected:
        assert names(audiences.recipients(message(combs, audience, **target))) == families, audience
    # Last year's course still reaches its own families when chosen.
    assert names(audiences.recipients(message(combs, Audience.COURSE, course=world["old"]))) == {
        "Leroy"
    }


def test_a_family_with_two_children_in_the_course_is_one_recipient(world, combs):
    found = audiences.recipients(message(combs, Audience.COURSE, course=world["courses"][0]))
    assert [r.family.name for r in found] == ["Durand", "Martin"]
    assert [r.email for r in found] == ["", "famille.martin@example.org"]


def test_another_sites_families_are_never_reached(world, combs, ploufragan):
    # A message of Combs-la-Ville naming a course of Ploufragan (which the
    # form refuses) still reaches nobody there.
    stray = message(combs, Audience.COURSE, course=world["plouf"]["courses"][0])
    assert audiences.recipients(stray) == []
    assert "Le Goff" not in names(audiences.recipients(message(combs)))
    assert names(audiences.recipients(message(ploufragan))) == {"Le Goff"}


def test_the_email_is_the_reference_one_else_the_accounts(world, combs):
    found = {r.family.name: r.email for r in audiences.recipients(message(combs))}
    assert found["Martin"] == "famille.martin@example.org"
    assert found["Petit"] == "petit.combs-la-ville@example.org"
    assert found["Durand"] == ""
    for family in world["families"].values():
        if family.name in found:
            assert found[family.name] == family.contact_email()


# Writing and previewing in the admin.


def post_message(client, **fields):
    values = {
        "site": "",
        "subject": "Concert de Noël",
        "body": "Le concert a lieu samedi.",
        "audience": Audience.COURSE,
        "course": "",
        "discipline": "",
        "teacher": "",
        "level": "",
    }
    values.update(fields)
    return client.post(reverse("admin:messaging_message_add"), values, **FR)


def decoded(header):
    return str(make_header(decode_header(header)))


def test_writing_a_message_leads_to_its_preview(world, combs, secretary, secretary_client):
    fm = world["courses"][0]
    response = post_message(
        secretary_client, site=combs.pk, course=fm.pk, teacher=fm.teacher.pk, level="Cycle 1"
    )
    created = Message.objects.get()
    assert response.status_code == 302 and response.url == send_url(created)
    # Only the target of the audience chosen is kept.
    assert (created.course, created.teacher, created.level) == (fm, None, "")
    assert created.created_by == secretary and created.sent_at is None
    page = secretary_client.get(response.url, **FR)
    assert page.status_code == 200
    text = page.text
    assert "2 familles" in text
    assert "1 famille sans e-mail, à appeler" in text
    # The family to phone, with its phones in French.
    assert "Durand" in text and "06 12 34 56 78" in text and "01 64 88 77 01" in text
    assert "Envoyer à 1 famille" in text
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "fields, field, message_fr",
    [
        ({"subject": ""}, "subject", "Ce champ est obligatoire."),
        ({"subject": "   "}, "subject", "Ce champ est obligatoire."),
        ({"subject": "x" * 151}, "subject", "au plus 150 caractères (actuellement 151)"),
        ({"subject": "Concert\r\nBcc: pirate@example.org"}, "subject", "tenir sur une ligne"),
        ({"body": ""}, "body", "Ce champ est obligatoire."),
        ({"body": "x" * 10001}, "body", "au plus 10000 caractères"),
        ({"course": ""}, "course", "Choisissez le cours."),
        ({"audience": "teacher"}, "teacher", "Choisissez le professeur."),
        ({"audience": "level", "level": "<script>"}, "level", "Sélectionnez un choix valide"),
        ({"audience": "everyone"}, "audience", "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(
    world, combs, secretary_client, fields, field, message_fr
):
    values = {"site": combs.pk, "course": world["courses"][0].pk, **fields}
    response = post_message(secretary_client, **values)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert any(message_fr in error for error in errors[field]), errors[field]
    assert not Message.objects.exists()


def test_a_course_of_another_site_cannot_be_chosen(world, combs, secretary_client):
    foreign = world["plouf"]["courses"][0]
    page = secretary_client.get(reverse("admin:messaging_message_add"))
    choices = page.context["adminform"].form.fields["course"].queryset
    assert foreign not in choices and world["courses"][0] in choices
    response = post_message(secretary_client, site=combs.pk, course=foreign.pk)
    assert "course" in response.context["adminform"].form.errors
    # Nor its discipline or teacher.
    response = post_message(
        secretary_client,
        site=combs.pk,
        audience=Audience.DISCIPLINE,
        discipline=world["plouf"]["piano"].pk,
    )
    assert "discipline" in response.context["adminform"].form.errors
    assert not Message.objects.exists()


def test_a_network_administrator_cannot_mix_sites(world, combs, ploufragan):
    from extranet.models import User

    admin = User.objects.create_superuser("reseau", password="x" * 16, site=None)
    client = signed_in(admin)
    response = post_message(client, site=ploufragan.pk, course=world["courses"][0].pk, **FR)
    assert response.context["adminform"].form.errors["course"] == [
        "Cet élément appartient à un autre site."
    ]
    assert not Message.objects.exists()


def test_the_levels_offered_are_this_years(world, combs, secretary_client):
    page = secretary_client.get(reverse("admin:messaging_message_add"))
    choices = [value for value, _label in page.context["adminform"].form.fields["level"].choices]
    assert choices == ["", "Cycle 1"]


def test_staff_of_another_site_get_a_404(world, combs, ploufragan):
    draft = message(combs, Audience.COURSE, course=world["courses"][0])
    stranger = signed_in(staff(ploufragan, PERMISSIONS, username="plouf"))
    for url in [change_url(draft), send_url(draft)]:
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(send_url(draft)).status_code == 404
    delete = reverse("admin:messaging_message_delete", args=[draft.pk])
    assert stranger.post(delete, {"post": "yes"}).status_code == 404
    listed = stranger.get(reverse("admin:messaging_message_changelist")).context["cl"]
    assert list(listed.result_list) == []
    draft.refresh_from_db()
    assert draft.sent_at is None and not Delivery.objects.exists()


def test_sending_needs_the_change_permission(world, combs):
    draft = message(combs, Audience.COURSE, course=world["courses"][0])
    reader = signed_in(staff(combs, ["view_message"], username="lecteur"))
    assert reader.post(send_url(draft)).status_code == 403
    assert not Delivery.objects.exists()


# Sending.


@pytest.mark.django_db(transaction=True)
def test_sent_through_the_worker_to_a_real_mail_server(
    world, combs, secretary, secretary_client, run_worker, settings, free_port
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    draft = message(
        combs,
        Audience.DISCIPLINE,
        discipline=world["fm"],
        subject="Répétition générale & concert",
        body="Rendez-vous samedi à 14 h.\nSalle Debussy.\n\nProgramme : https://example.org/p",
    )
    before = timezone.now()
    response = secretary_client.post(send_url(draft), **FR)
    assert response.status_code == 302 and response.url == change_url(draft)
    draft.refresh_from_db()
    assert draft.sent_at >= before and draft.sent_by == secretary
    assert set(Delivery.objects.values_list("family__name", "status")) == {
        ("Martin", "queued"),
        ("Bernard", "queued"),
        ("Durand", "no_email"),
    }
    with SMTPSink(free_port) as sink:
        run_worker()
    assert sorted(m["To"] for m in sink.messages) == [
        "bernard.combs-la-ville@example.org",
        "famille.martin@example.org",
    ]
    received = sink.messages[0]
    assert decoded(received["Subject"]) == "Répétition générale & concert"
    assert received["Reply-To"] == combs.email
    assert received.get_content_type() == "multipart/alternative"
    text, html = received.get_payload()
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    text = text.get_payload(decode=True).decode()
    html = html.get_payload(decode=True).decode()
    text = text.replace("\r\n", "\n")
    assert text.startswith("Bonjour,") and "Rendez-vous samedi à 14 h.\nSalle Debussy." in text
    assert text.rstrip().endswith(combs.email)
    assert "<p>Rendez-vous samedi à 14 h.<br>Salle Debussy.</p>" in html
    assert '<a href="https://example.org/p"' in html
    assert f"mailto:{combs.email}" in html
    # The log: who, which address, when.
    log = {d.family.name: d for d in Delivery.objects.select_related("family")}
    for name in ["Martin", "Bernard"]:
        assert log[name].status == Delivery.Status.SENT
        assert before <= log[name].sent_at <= timezone.now()
        assert log[name].attempts == 1 and log[name].error == ""
    assert log["Martin"].email == "famille.martin@example.org"
    assert log["Durand"].status == Delivery.Status.NO_EMAIL and log["Durand"].sent_at is None
    # The message is read only, with its log.
    page = secretary_client.get(change_url(draft), **FR)
    assert page.status_code == 200
    assert (
        "famille.martin@example.org" in page.text and "pas d’e-mail\u00a0: à appeler" in page.text
    )
    assert "2 envoyé(s), 0 en attente, 0 en échec, 1 sans e-mail" in page.text
    assert not page.context["has_change_permission"]
    assert not page.context["adminform"].form.fields  # Nothing to edit.


@pytest.mark.django_db(transaction=True)
def test_two_children_in_the_course_make_one_email(world, combs, secretary_client, run_worker):
    draft = message(combs, Audience.COURSE, course=world["courses"][0])
    secretary_client.post(send_url(draft))
    run_worker()
    assert [m.to for m in mail.outbox] == [["famille.martin@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_sending_twice_does_nothing(world, combs, secretary, secretary_client, run_worker):
    draft = message(combs)
    secretary_client.post(send_url(draft))
    first = DBTaskResult.objects.count()
    sent_at = Message.objects.get().sent_at
    again = secretary_client.post(send_url(draft), follow=True, **FR)
    assert "n’est pas envoyé une seconde fois" in again.text
    assert sending.send(draft, secretary) is None
    assert DBTaskResult.objects.count() == first
    assert Message.objects.get().sent_at == sent_at
    assert Delivery.objects.count() == 4
    run_worker()
    assert len(mail.outbox) == 3
    # Changing or deleting a sent message is refused too.
    response = secretary_client.post(
        change_url(draft), {"subject": "Autre", "body": "x", "audience": "site", "site": combs.pk}
    )
    assert response.status_code == 403
    delete = reverse("admin:messaging_message_delete", args=[draft.pk])
    assert secretary_client.post(delete, {"post": "yes"}).status_code == 403
    assert Message.objects.get().subject == "Concert de Noël"


@pytest.mark.django_db(transaction=True)
def test_hostile_text_is_escaped_in_html(world, combs, secretary_client, run_worker, tmp_path):
    from .test_html_valid import validate

    hostile = '<script>alert("x")</script> & <b onmouseover=alert(1)>gras</b>'
    draft = message(
        combs,
        Audience.COURSE,
        course=world["courses"][0],
        subject='<img src=x onerror=alert(1)> "Concert"',
        body=f"{hostile}\n\nhttps://example.org/?a=1&b=<2>\n\njavascript:alert(1)",
    )
    page = secretary_client.get(send_url(draft)).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    secretary_client.post(send_url(draft))
    run_worker()
    (sent,) = mail.outbox
    html = sent.alternatives[0][0]
    assert "<script" not in html and "<b " not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in html
    assert 'href="javascript:' not in html
    assert hostile in sent.body  # The text part is not HTML.
    assert sent.subject == '<img src=x onerror=alert(1)> "Concert"'
    assert validate({"hostile-mail": html, "hostile-preview": page}, tmp_path) == []


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_down_keeps_the_deliveries_queued_then_sends(
    world, combs, secretary_client, run_worker, settings, free_port
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    draft = message(combs, Audience.DISCIPLINE, discipline=world["fm"])
    secretary_client.post(send_url(draft))
    run_worker()  # Nobody listens: the first delivery fails, the others wait with it.
    queued = Delivery.objects.filter(status=Delivery.Status.QUEUED)
    assert queued.count() == 2
    assert queued.exclude(error="").count() == 1
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.args_kwargs["kwargs"]["attempt"] == 2 and retry.run_after > timezone.now()
    with SMTPSink(free_port) as sink:
        with time_machine.travel(retry.run_after + timedelta(seconds=1)):
            run_worker()
        assert len(sink.messages) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent", "no_email"}
    assert not Delivery.objects.filter(status="sent").exclude(error="").exists()


class RefusingSink:
    """A real SMTP server that knows no recipient."""

    def __init__(self, port):
        from aiosmtpd.controller import Controller

        class Refuse:
            async def handle_RCPT(self, server, session, envelope, address, options):
                return "550 5.1.1 No such user here"

        self.controller = Controller(Refuse(), hostname="127.0.0.1", port=port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


@pytest.mark.django_db(transaction=True)
def test_a_refused_address_is_logged_as_failed(
    world, combs, secretary, run_worker, settings, free_port
):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port, "timeout": 5},
        }
    }
    sending.send(message(combs, Audience.COURSE, course=world["courses"][0]), secretary)
    with RefusingSink(free_port):
        run_worker()
    delivery = Delivery.objects.get(family__name="Martin")
    assert delivery.status == Delivery.Status.FAILED and "No such user" in delivery.error
    assert delivery.sent_at is None
    assert not DBTaskResult.objects.filter(status="READY").exists()  # Not tried again.


@pytest.mark.django_db(transaction=True)
def test_a_task_run_twice_sends_once(world, combs, secretary, run_worker):
    sending.send(message(combs, Audience.COURSE, course=world["courses"][0]), secretary)
    (task,) = DBTaskResult.objects.all()
    run_worker()
    # A second worker, or the same task again after a crash.
    sending.send_deliveries.call(*task.args_kwargs["args"])
    assert len(mail.outbox) == 1


# Query counts and pages.


def many_families(site, course, count):
    for n in range(count):
        name = f"Famille {count}-{n}"
        family = make_parent(site, username=f"famille{count}-{n}", family_name=name).family
        if n % 2:
            family.accounts.update(email="")
            payer(family, mobile_phone="+33611111111")
        student(family, f"Élève {n}", courses=[course])


def test_query_counts_do_not_grow_with_the_recipients(
    world, combs, secretary, secretary_client, django_assert_max_num_queries
):
    counts = []
    for size in [1, 6]:
        course = structure(combs, school_year(combs, clock.THIS_YEAR + size))["courses"][1]
        many_families(combs, course, size)
        draft = message(combs, Audience.COURSE, course=course)
        used = []
        for method, url in [
            ("get", send_url(draft)),
            ("post", send_url(draft)),
            ("get", change_url(draft)),
            ("get", reverse("admin:messaging_message_changelist")),
        ]:
            with CaptureQueriesContext(connection) as queries:
                response = getattr(secretary_client, method)(url)
                assert response.status_code in (200, 302), url
            used.append(len(queries))
        assert Delivery.objects.filter(message=draft).count() == size
        counts.append(used)
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(5):
        audiences.recipients(draft)


def test_admin_pages_are_valid_html(world, combs, secretary, secretary_client, tmp_path):
    from .test_html_valid import validate

    draft = message(combs, Audience.COURSE, course=world["courses"][0])
    sent = message(combs, Audience.LEVEL, level="Cycle 1", subject="Envoyé")
    sending.send(sent, secretary)
    pages = {
        "message-add": secretary_client.get(reverse("admin:messaging_message_add")).text,
        "message-errors": post_message(secretary_client, site=combs.pk, subject="").text,
        "message-draft": secretary_client.get(change_url(draft)).text,
        "message-preview": secretary_client.get(send_url(draft)).text,
        "message-sent": secretary_client.get(change_url(sent)).text,
        "message-list": secretary_client.get(reverse("admin:messaging_message_changelist")).text,
    }
    assert validate(pages, tmp_path) == []


def test_a_message_to_nobody_says_so(world, combs, secretary_client):
    nobody = message(combs, Audience.LEVEL, level="Cycle 3")
    page = secretary_client.get(send_url(nobody), **FR).text
    assert "Aucune famille" in page and "Envoyer" not in page


def test_a_year_without_lessons_reaches_nobody(combs):
    draft = message(combs)
    assert audiences.recipients(draft) == []
    assert audiences.levels([combs.pk]) == []


def test_the_demo_has_a_sent_message_with_its_log(demo):
    sent = Message.objects.get(site=demo["combs"], sent_at__isnull=False)
    log = {d.family.name: d.status for d in sent.deliveries.select_related("family")}
    assert log == {"Martin": "sent"}  # Léa and Hugo: one family.
    assert Message.objects.filter(site=demo["combs"], sent_at__isnull=True).exists()
    assert sent.sent_at.date() == date(2026, 11, 20)
