"""Versions of what the parent pages show (families/versions.py): every model is
classified, and every path of change moves the right counter, bulk ones included."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.test import RequestFactory

from billing.models import Invoice, InvoiceLine
from extranet.models import Site
from families import versions
from families.models import Family, Guardian
from fees.models import Price, Reduction
from students.models import Enrollment

from . import factories


def family_version(family):
    return Family.objects.values_list("content_version", flat=True).get(pk=family.pk)


def site_version(site):
    return Site.objects.values_list("content_version", flat=True).get(pk=site.pk)


def test_every_model_of_the_project_moves_a_version_or_is_declared_ignored():
    for model in apps.get_models():
        versions.rule(model)  # raises LookupError for an undeclared model


@pytest.fixture
def family(parent):
    return parent.family


@pytest.fixture
def year(combs):
    return factories.school_year(combs)


def test_save_delete_and_cascades_move_the_family_version(family, year, combs):
    course = factories.structure(combs, year)["courses"][0]
    before = family_version(family)
    student = factories.student(family)
    assert family_version(family) > before

    before = family_version(family)
    enrollment = Enrollment.objects.create(student=student, course=course)
    assert family_version(family) > before

    before = family_version(family)
    enrollment.delete()
    assert family_version(family) > before

    before = family_version(family)
    factories.payer(family)
    Guardian.objects.filter(family=family).delete()
    assert family_version(family) > before


def test_bulk_update_create_and_bulk_update_move_the_family_version(family, parent, combs):
    invoice = factories.draft(family)
    before = family_version(family)
    Invoice.objects.filter(pk=invoice.pk).update(label="Changed")
    assert family_version(family) > before

    before = family_version(family)
    line = InvoiceLine.objects.get(invoice=invoice)
    line.label = "Changed"
    InvoiceLine.objects.bulk_update([line], ["label"])
    assert family_version(family) > before

    before = family_version(family)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                label="Cours",
                position=1,
                unit_price=Decimal("10.00"),
                amount=Decimal("10.00"),
            )
        ]
    )
    assert family_version(family) > before


def test_a_change_of_another_family_leaves_this_one(family, ploufragan):
    other = factories.make_parent(ploufragan, family_name="Le Goff").family
    before = family_version(family)
    Family.objects.filter(pk=other.pk).update(name="Le Goff-Martin")
    factories.payer(other)
    assert family_version(family) == before


def test_the_fee_grid_moves_the_site_version(combs, year):
    factories.billing_grid(combs, year)
    before = site_version(combs)
    Price.objects.filter(item__grid__site=combs).update(amount=Decimal("1.00"))
    assert site_version(combs) > before
    before = site_version(combs)
    Reduction.objects.filter(grid__site=combs).first().save()
    assert site_version(combs) > before


def test_many_to_many_changes_move_both_sides(family, combs, year):
    factories.billing_grid(combs, year)
    reduction = Reduction.objects.filter(grid__site=combs).first()
    before_family, before_site = family_version(family), site_version(combs)
    reduction.families.add(family)
    assert family_version(family) > before_family
    assert site_version(combs) > before_site
    before_family = family_version(family)
    reduction.families.clear()
    assert family_version(family) > before_family


def test_saving_an_old_instance_never_writes_back_its_old_version(family):
    stale = Family.objects.get(pk=family.pk)
    factories.payer(family)
    moved = family_version(family)
    stale.save()
    assert family_version(family) > moved


def test_signing_in_moves_nothing(parent, family):
    before = family_version(family)
    factories.signed_in(parent).get("/")
    assert family_version(family) == before


def test_the_key_holds_site_family_versions_language_and_day(family, combs):
    request = RequestFactory().get("/")
    family = Family.objects.select_related("site").get(pk=family.pk)
    key = versions.family_cache_key(request, family, "statement")
    factories.payer(family)
    family = Family.objects.select_related("site").get(pk=family.pk)
    assert versions.family_cache_key(request, family, "statement") != key
    Site.objects.filter(pk=combs.pk).update(name="Combs")
    family = Family.objects.select_related("site").get(pk=family.pk)
    moved = versions.family_cache_key(request, family, "statement")
    assert moved != key
    from datetime import date

    assert versions.family_cache_key(request, family, "x", day=date(2026, 1, 2)).endswith(
        "2026-01-02"
    )
