"""The secretariat's fee grids in the admin: the grid and its parts, the
price table (page, CSV/XLSX export and import), the copy to next year."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from families.demo import SECRETARIAT_PERMISSIONS as FAMILIES
from families.models import Family
from fees.models import Band, Commune, FeeGrid, FeeItem, Price, Reduction, Term, Zone
from fees.permissions import SECRETARIAT_PERMISSIONS

from . import clock, factories

NOT_A_PRICE = "Ce n’est pas un prix\u00a0: saisissez un montant en euros, par exemple 186,00."

# Builders.


def grid(site, year, items=("Instrument seul", "Formation musicale seule"), bands=3, zones=2):
    """A grid with terms, `zones` zones (the agglomeration's, then outside),
    `bands` bands T1, T2… (every 400 €) and `items`, without prices."""
    made = FeeGrid.objects.create(site=site, school_year=year)
    start = year.start_date
    for number in range(1, 4):
        first = start + timedelta(weeks=12 * (number - 1))
        Term.objects.create(
            grid=made,
            number=number,
            start_date=first,
            end_date=first + timedelta(weeks=12, days=-1),
            due_date=first + timedelta(days=30),
        )
    names = ["Agglomération", "Hors agglomération", "Département", "Région"][:zones]
    for position, name in enumerate(names):
        zone = Zone.objects.create(
            grid=made, name=name, position=position, is_outside=position == len(names) - 1
        )
        if not zone.is_outside:
            Commune.objects.create(zone=zone, postal_code="77380", name="Combs-la-Ville")
    for n in range(bands):
        Band.objects.create(grid=made, code=f"T{n + 1}", min_qf=Decimal(400 * n))
    for position, name in enumerate(items):
        FeeItem.objects.create(grid=made, name=name, categories=["instrument"], position=position)
    return made


def cell(g, item, band, zone):
    return g.items.get(name=item), g.bands.get(code=band), g.zones.get(name=zone)


def field_name(item, band, zone):
    return f"price-{item.pk}-{band.pk}-{zone.pk}"


def set_price(g, item, band, zone, amount):
    i, b, z = cell(g, item, band, zone)
    return Price.objects.create(item=i, band=b, zone=z, amount=Decimal(amount))


def prices_of(g):
    return {
        (p.item.name, p.band.code, p.zone.name): p.amount
        for p in Price.objects.filter(item__grid=g).select_related("item", "band", "zone")
    }


@pytest.fixture
def year(combs):
    return factories.school_year(combs)


@pytest.fixture
def secretary(combs):
    user = factories.staff(combs, SECRETARIAT_PERMISSIONS + FAMILIES)
    return factories.signed_in(user)


def prices_url(g):
    return reverse("admin:fees_feegrid_prices", args=[g.pk])


# Scoping.


def test_another_sites_grid_is_neither_listed_nor_reachable(secretary, combs, ploufragan, year):
    ours = grid(combs, year)
    theirs = grid(ploufragan, factories.school_year(ploufragan))
    page = secretary.get(reverse("admin:fees_feegrid_changelist"))
    assert page.status_code == 200
    assert [g.pk for g in page.context["cl"].result_list] == [ours.pk]
    change = secretary.get(reverse("admin:fees_feegrid_change", args=[theirs.pk]))
    assert change.status_code == 302 and change["Location"] == reverse("admin:index")
    assert secretary.get(prices_url(theirs)).status_code == 404
    assert secretary.post(prices_url(theirs), {}).status_code == 404
    for file_format in ["csv", "xlsx"]:
        export = reverse("admin:fees_feegrid_prices_export", args=[theirs.pk, file_format])
        assert secretary.get(export).status_code == 404
    upload = SimpleUploadedFile("t.csv", b"article;tranche;zone;prix\n")
    imported = secretary.post(
        reverse("admin:fees_feegrid_prices_import", args=[theirs.pk]), {"file": upload}
    )
    assert imported.status_code == 404
    # Nor through the copy action: the changelist's queryset leaves it out.
    copy = secretary.post(
        reverse("admin:fees_feegrid_changelist"),
        {"action": "copy_grid", "_selected_action": [theirs.pk]},
        follow=True,
    )
    assert "Sélectionnez une grille à copier." in copy.content.decode()
    assert FeeGrid.objects.filter(site=ploufragan).count() == 1


def test_a_secretary_without_change_permission_reads_but_cannot_save(combs, year):
    g = grid(combs, year)
    reader = factories.signed_in(factories.staff(combs, ["view_feegrid"], username="lecture"))
    page = reader.get(prices_url(g))
    assert page.status_code == 200 and "Enregistrer les tarifs" not in page.content.decode()
    i, b, z = cell(g, "Instrument seul", "T1", "Agglomération")
    assert reader.post(prices_url(g), {field_name(i, b, z): "10"}).status_code == 403
    assert not Price.objects.exists()


# The grid's page.


def management(prefix, rows):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        data.update({f"{prefix}-{n}-{key}": value for key, value in row.items()})
    return data


def french(day):
    return day.strftime("%d/%m/%Y")


def new_grid_data(site, year, **parts):
    rows = {
        "terms": [
            {
                "number": "1",
                "start_date": french(year.start_date),
                "end_date": french(year.start_date + timedelta(weeks=14)),
                "due_date": french(year.start_date + timedelta(days=30)),
            },
        ],
        "zones": [
            {
                "position": "0",
                "name": "Agglomération",
                "communes_text": "77380 Combs-la-Ville\n77170 Brie-Comte-Robert\n\n",
            },
            {
                "position": "1",
                "name": "Hors agglomération",
                "is_outside": "on",
                "communes_text": "",
            },
        ],
        "bands": [{"code": "T1", "min_qf": "0"}, {"code": "T2", "min_qf": "400,00"}],
        "items": [
            {
                "position": "0",
                "name": "Cursus complet",
                "categories": ["instrument", "musicianship"],
                "min_courses": "1",
                "max_courses": "",
                "course_kind": "any",
                "age": "any",
            },
        ],
        "reductions": [],
    }
    rows.update(parts)
    data = {
        "site": str(site.pk),
        "school_year": str(year.pk),
        "qf_formula": "tax_notice",
        "billing": "terms",
        "adult_age": "18",
        "notes": "Délibération du 12 juin",
    }
    for prefix, prefix_rows in rows.items():
        data.update(management(prefix, prefix_rows))
    return data


def test_secretary_creates_a_grid_with_its_parts(secretary, combs, year, parent):
    exempted = parent.family
    reduction = {
        "kind": "exemption",
        "name": "Enfants du personnel",
        "from_rank": "2",
        "percent": "100",
        "amount": "",
        "families": [str(exempted.pk)],
    }
    response = secretary.post(
        reverse("admin:fees_feegrid_add"), new_grid_data(combs, year, reductions=[reduction])
    )
    assert response.status_code == 302, response.context and [
        f.errors for f in response.context["inline_admin_formsets"] for f in f.formset.forms
    ]
    g = FeeGrid.objects.get()
    assert (g.site, g.school_year, g.billing) == (combs, year, "terms")
    agglomeration = g.zones.get(name="Agglomération")
    assert sorted(str(c) for c in agglomeration.communes.all()) == [
        "77170 Brie-Comte-Robert",
        "77380 Combs-la-Ville",
    ]
    assert agglomeration.communes.get(postal_code="77380").normalized_name == "combs la ville"
    assert g.zones.get(is_outside=True).name == "Hors agglomération"
    assert [(b.code, b.min_qf) for b in g.bands.all()] == [("T1", 0), ("T2", Decimal("400"))]
    assert g.items.get().categories == ["instrument", "musicianship"]
    assert list(g.reductions.get().families.all()) == [exempted]

    # The communes come back one per line, and a change replaces them.
    change_url = reverse("admin:fees_feegrid_change", args=[g.pk])
    page = secretary.get(change_url)
    assert "77170 Brie-Comte-Robert\n77380 Combs-la-Ville" in page.content.decode()
    assert reverse("admin:fees_feegrid_prices", args=[g.pk]) in page.content.decode()


def change_data(g):
    """What the grid's page sends back when nothing is changed."""
    data = {"qf_formula": g.qf_formula, "billing": g.billing, "adult_age": str(g.adult_age)}
    data["notes"] = g.notes
    rows = {
        "terms": [
            {
                "number": str(t.number),
                "start_date": french(t.start_date),
                "end_date": french(t.end_date),
                "due_date": french(t.due_date),
            }
            for t in g.terms.all()
        ],
        "bands": [{"code": b.code, "min_qf": str(b.min_qf)} for b in g.bands.all()],
        "items": [
            {
                "position": str(i.position),
                "name": i.name,
                "categories": i.categories,
                "min_courses": str(i.min_courses),
                "course_kind": i.course_kind,
                "age": i.age,
            }
            for i in g.items.all()
        ],
        "zones": [
            {
                "position": str(z.position),
                "name": z.name,
                "communes_text": "\n".join(str(c) for c in z.communes.all()),
            }
            | ({"is_outside": "on"} if z.is_outside else {})
            for z in g.zones.all()
        ],
        "reductions": [],
    }
    objects = {
        "terms": g.terms.all(),
        "bands": g.bands.all(),
        "items": g.items.all(),
        "zones": g.zones.all(),
        "reductions": [],
    }
    for prefix, prefix_rows in rows.items():
        data.update(management(prefix, prefix_rows))
        data[f"{prefix}-INITIAL_FORMS"] = str(len(prefix_rows))
        for n, obj in enumerate(objects[prefix]):
            data[f"{prefix}-{n}-id"] = str(obj.pk)
            data[f"{prefix}-{n}-grid"] = str(g.pk)
    return data


def test_communes_are_edited_on_the_grid_page(secretary, combs, year):
    g = grid(combs, year, zones=2, bands=1, items=("Théâtre",))
    zones = list(g.zones.all())
    data = change_data(g)
    data["zones-0-communes_text"] = "77380 Combs-la-Ville\n91080 Évry-Courcouronnes"
    data["zones-1-name"] = "Ailleurs"
    data["items-0-categories"] = ["theatre"]
    response = secretary.post(reverse("admin:fees_feegrid_change", args=[g.pk]), data)
    assert response.status_code == 302
    assert sorted(c.name for c in zones[0].communes.all()) == [
        "Combs-la-Ville",
        "Évry-Courcouronnes",
    ]
    assert g.zones.get(pk=zones[1].pk).name == "Ailleurs"
    assert g.items.get().categories == ["theatre"]


def test_two_bands_or_zones_may_swap_their_values(secretary, combs, year):
    g = grid(combs, year, zones=2, bands=2)
    t1, t2 = g.bands.all()
    inside, outside = g.zones.all()
    data = change_data(g)
    unchanged = secretary.post(reverse("admin:fees_feegrid_change", args=[g.pk]), data)
    assert unchanged.status_code == 302
    data.update({"bands-0-code": "T2", "bands-0-min_qf": "400", "bands-1-code": "T1"})
    data.update({"bands-1-min_qf": "0", "zones-1-communes_text": "", "zones-0-communes_text": ""})
    data["zones-0-is_outside"] = data.pop("zones-1-is_outside")
    response = secretary.post(reverse("admin:fees_feegrid_change", args=[g.pk]), data)
    assert response.status_code == 302
    t1.refresh_from_db()
    t2.refresh_from_db()
    assert (t1.code, t1.min_qf, t2.code, t2.min_qf) == ("T2", 400, "T1", 0)
    assert g.zones.get(is_outside=True) == inside and outside.communes.count() == 0


def errors_of(response, prefix):
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == prefix:
            return [form.errors for form in inline.formset.forms]
    raise AssertionError(prefix)


@pytest.mark.parametrize(
    ("prefix", "rows", "field", "message"),
    [
        (
            "terms",
            [
                {"number": "1", "start_date": "01/09/2000", "end_date": "", "due_date": ""},
            ],
            "start_date",
            "Choisissez un jour de l’année scolaire, du {start} au {end}.",
        ),
        (
            "terms",
            [
                {
                    "number": "1",
                    "start_date": "{start}",
                    "end_date": "{start}",
                    "due_date": "{start}",
                },
                {
                    "number": "1",
                    "start_date": "{start}",
                    "end_date": "{start}",
                    "due_date": "{start}",
                },
            ],
            "number",
            "Un autre trimestre porte déjà ce numéro.",
        ),
        (
            "bands",
            [{"code": "T1", "min_qf": "0"}, {"code": "T2", "min_qf": "0,00"}],
            "min_qf",
            "Une autre tranche commence déjà à ce quotient\u00a0: les tranches ne peuvent pas se "
            "chevaucher.",
        ),
        (
            "bands",
            [{"code": "T1", "min_qf": "0"}, {"code": "t1", "min_qf": "400"}],
            "code",
            "Une autre tranche porte déjà ce nom.",
        ),
        (
            "reductions",
            [
                {
                    "kind": "sibling",
                    "name": "2e enfant",
                    "from_rank": "2",
                    "percent": "120",
                    "amount": "",
                }
            ],
            "percent",
            "Une réduction ne peut pas dépasser 100 %.",
        ),
        (
            "reductions",
            [
                {
                    "kind": "sibling",
                    "name": "2e enfant",
                    "from_rank": "2",
                    "percent": "10",
                    "amount": "20",
                }
            ],
            "amount",
            "Indiquez un pourcentage ou un montant, pas les deux.",
        ),
        (
            "reductions",
            [
                {
                    "kind": "sibling",
                    "name": "2e enfant",
                    "from_rank": "2",
                    "percent": "",
                    "amount": "",
                }
            ],
            "percent",
            "Indiquez un pourcentage ou un montant.",
        ),
        (
            "reductions",
            [
                {
                    "kind": "second",
                    "name": "2e discipline",
                    "from_rank": "2",
                    "percent": "",
                    "amount": "-5",
                }
            ],
            "amount",
            "Une réduction ne peut pas être négative.",
        ),
        (
            "items",
            [
                {
                    "position": "0",
                    "name": "Danse",
                    "categories": ["dance"],
                    "min_courses": "3",
                    "max_courses": "2",
                    "course_kind": "any",
                    "age": "any",
                }
            ],
            "max_courses",
            "Le maximum ne peut pas être inférieur au minimum.",
        ),
        (
            "items",
            [
                {
                    "position": "0",
                    "name": "Danse",
                    "min_courses": "1",
                    "max_courses": "",
                    "course_kind": "any",
                    "age": "any",
                }
            ],
            "categories",
            "Choisissez au moins une catégorie de discipline.",
        ),
        (
            "zones",
            [{"position": "0", "name": "Agglo", "communes_text": "Combs-la-Ville"}],
            "communes_text",
            "Ligne 1\u00a0: écrivez le code postal (5 chiffres), puis le nom, par exemple 77380 "
            "Combs-la-Ville.",
        ),
        (
            "zones",
            [
                {"position": "0", "name": "Ailleurs", "is_outside": "on", "communes_text": ""},
                {"position": "1", "name": "Loin", "is_outside": "on", "communes_text": ""},
            ],
            "is_outside",
            "Une seule zone peut être celle de tous les autres lieux.",
        ),
    ],
)
def test_wrong_parts_of_a_grid_are_refused_in_french_next_to_the_field(
    secretary, combs, year, prefix, rows, field, message
):
    days = {"start": french(year.start_date), "end": french(year.end_date)}
    rows = [{k: v.format(**days) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
    message = message.format(**days)
    response = secretary.post(
        reverse("admin:fees_feegrid_add"), new_grid_data(combs, year, **{prefix: rows})
    )
    assert response.status_code == 200
    assert not FeeGrid.objects.exists()
    assert message in errors_of(response, prefix)[-1].get(field, []), errors_of(response, prefix)
    assert message.replace("'", "&#x27;") in response.content.decode()


# The price table.


def test_price_table_shows_a_labelled_input_per_cell_and_the_gaps(secretary, combs, year):
    g = grid(combs, year)
    set_price(g, "Instrument seul", "T3", "Agglomération", "186.00")
    page = secretary.get(prices_url(g))
    html = page.content.decode()
    i, b, z = cell(g, "Instrument seul", "T3", "Agglomération")
    name = field_name(i, b, z)
    label = "Instrument seul – T3 – Agglomération"
    assert f'<label class="fees-visually-hidden" for="id_{name}">{label}</label>' in html
    assert f'name="{name}" value="186,00"' in html
    gaps = [c.label for c in page.context["gaps"]]
    assert len(gaps) == 2 * 3 * 2 - 1
    assert "Instrument seul – T3 – Agglomération" not in gaps
    assert "Formation musicale seule – T1 – Hors agglomération" in gaps


def test_price_table_saves_french_and_english_decimals_and_empty_cells(secretary, combs, year):
    g = grid(combs, year, items=("Instrument seul",), bands=2, zones=1)
    set_price(g, "Instrument seul", "T2", "Agglomération", "99.00")
    (i,) = g.items.all()
    t1, t2 = g.bands.all()
    (z,) = g.zones.all()
    response = secretary.post(
        prices_url(g), {field_name(i, t1, z): " 1 186,5 ", field_name(i, t2, z): ""}
    )
    assert response.status_code == 302
    assert prices_of(g) == {("Instrument seul", "T1", "Agglomération"): Decimal("1186.50")}
    secretary.post(prices_url(g), {field_name(i, t1, z): "186.00", field_name(i, t2, z): "12"})
    assert prices_of(g) == {
        ("Instrument seul", "T1", "Agglomération"): Decimal("186.00"),
        ("Instrument seul", "T2", "Agglomération"): Decimal("12.00"),
    }


def test_cells_not_sent_keep_their_price(secretary, combs, year):
    g = grid(combs, year, items=("Instrument seul",), bands=2, zones=1)
    set_price(g, "Instrument seul", "T2", "Agglomération", "99.00")
    (i,) = g.items.all()
    t1, _t2 = g.bands.all()
    (z,) = g.zones.all()
    assert secretary.post(prices_url(g), {field_name(i, t1, z): "10"}).status_code == 302
    assert prices_of(g) == {
        ("Instrument seul", "T1", "Agglomération"): Decimal("10.00"),
        ("Instrument seul", "T2", "Agglomération"): Decimal("99.00"),
    }


def test_a_grid_is_made_for_a_year_of_the_secretarys_site_only(secretary, combs, ploufragan):
    theirs = factories.school_year(ploufragan)
    response = secretary.post(
        reverse("admin:fees_feegrid_add"),
        new_grid_data(combs, theirs, terms=[]) | {"site": str(ploufragan.pk)},
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"site", "school_year"}
    assert not FeeGrid.objects.exists()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "12,3,4",
            NOT_A_PRICE,
        ),
        ("-5", "Un prix ne peut pas être négatif."),
        ("-0,01", "Un prix ne peut pas être négatif."),
        ("<script>alert(1)</script>", "Trop long pour un prix."),
        ("<b>", NOT_A_PRICE),
        ("1" * 21, "Trop long pour un prix."),
        ("12345678901", "Ce prix est trop élevé."),
        (
            "12,345",
            NOT_A_PRICE,
        ),
    ],
)
def test_a_wrong_cell_is_marked_and_nothing_is_saved(secretary, combs, year, typed, message):
    g = grid(combs, year, items=("Instrument seul",), bands=2, zones=1)
    set_price(g, "Instrument seul", "T2", "Agglomération", "99.00")
    (i,) = g.items.all()
    t1, t2 = g.bands.all()
    (z,) = g.zones.all()
    wrong = field_name(i, t1, z)
    response = secretary.post(prices_url(g), {wrong: typed, field_name(i, t2, z): "50"})
    assert response.status_code == 200
    assert response.context["form"].errors == {wrong: [message]}
    html = response.content.decode()
    assert f'id="id_{wrong}_errors"' in html and f'aria-describedby="id_{wrong}_errors"' in html
    assert "<script>alert" not in html and "<b>" not in html.split("<form", 1)[1]
    assert "Rien n’a été enregistré\u00a0: corrigez les cases signalées." in html
    assert prices_of(g) == {("Instrument seul", "T2", "Agglomération"): Decimal("99.00")}


def page_queries(client, g):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(prices_url(g)).status_code == 200
    return len(queries)


def test_price_table_page_queries_do_not_grow_with_the_grid(
    secretary, combs, year, django_assert_max_num_queries
):
    small = grid(combs, year, items=("Théâtre",), bands=1, zones=1)
    large = grid(
        combs,
        factories.school_year(combs, clock.THIS_YEAR + 1),
        items=[f"Article {n}" for n in range(6)],
        bands=8,
        zones=3,
    )
    for item in large.items.all():
        for band in large.bands.all():
            for zone in large.zones.all():
                Price.objects.create(item=item, band=band, zone=zone, amount=Decimal("10"))
    page_queries(secretary, small)  # The session and the user, once warm.
    with django_assert_max_num_queries(12):
        small_count = page_queries(secretary, small)
    with django_assert_max_num_queries(12):
        large_count = page_queries(secretary, large)
    assert small_count == large_count


# Export and import.


def test_csv_export_is_read_back(secretary, combs, year):
    g = grid(combs, year, items=("Instrument seul",), bands=2, zones=2)
    set_price(g, "Instrument seul", "T1", "Agglomération", "186.50")
    response = secretary.get(reverse("admin:fees_feegrid_prices_export", args=[g.pk, "csv"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows == [
        ["article", "tranche", "zone", "prix"],
        ["Instrument seul", "T1", "Agglomération", "186,50"],
        ["Instrument seul", "T2", "Agglomération", ""],
        ["Instrument seul", "T1", "Hors agglomération", ""],
        ["Instrument seul", "T2", "Hors agglomération", ""],
    ]


def test_xlsx_export_is_read_back(secretary, combs, year):
    g = grid(combs, year, items=("Instrument seul",), bands=1, zones=1)
    set_price(g, "Instrument seul", "T1", "Agglomération", "186.50")
    response = secretary.get(reverse("admin:fees_feegrid_prices_export", args=[g.pk, "xlsx"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["article", "tranche", "zone", "prix"],
        ["Instrument seul", "T1", "Agglomération", 186.5],
    ]


def import_file(client, g, name, content):
    return client.post(
        reverse("admin:fees_feegrid_prices_import", args=[g.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def test_csv_import_round_trip(secretary, combs, year):
    # A name a spreadsheet would take for a formula comes back as it was.
    g = grid(combs, year, items=("Instrument seul", "Éveil"), bands=2, zones=1)
    g.zones.update(name="-Agglomération")
    set_price(g, "Instrument seul", "T1", "-Agglomération", "186.50")
    set_price(g, "Éveil", "T2", "-Agglomération", "40.00")
    exported = secretary.get(reverse("admin:fees_feegrid_prices_export", args=[g.pk, "csv"]))
    text = exported.content.decode("utf-8")
    # The secretary fills a gap, changes a price and empties another.
    for line, changed in [
        ("Instrument seul;T2;'-Agglomération;", "Instrument seul;T2;'-Agglomération;1 200,00"),
        ("Instrument seul;T1;'-Agglomération;186,50", "Instrument seul;T1;'-Agglomération;190.65"),
        ("Éveil;T2;'-Agglomération;40,00", "éveil;t2;'-agglomération;"),
    ]:
        assert line in text
        text = text.replace(line, changed)
    response = import_file(secretary, g, "tarifs.csv", text.encode("utf-8"))
    assert response.status_code == 302
    assert prices_of(g) == {
        ("Instrument seul", "T1", "-Agglomération"): Decimal("190.65"),
        ("Instrument seul", "T2", "-Agglomération"): Decimal("1200.00"),
    }
    # The same file again changes nothing.
    assert import_file(secretary, g, "tarifs.csv", text.encode("utf-8")).status_code == 302
    again = secretary.get(prices_url(g))
    assert "0 tarif modifié" in again.content.decode()


def test_xlsx_import_round_trip(secretary, combs, year):
    g = grid(combs, year, items=("Instrument seul",), bands=2, zones=1)
    set_price(g, "Instrument seul", "T1", "Agglomération", "186.50")
    exported = secretary.get(reverse("admin:fees_feegrid_prices_export", args=[g.pk, "xlsx"]))
    workbook = load_workbook(io.BytesIO(exported.content))
    workbook.active["D3"] = 55.5
    workbook.active["D2"] = "187,25"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert import_file(secretary, g, "tarifs.xlsx", buffer.getvalue()).status_code == 302
    assert prices_of(g) == {
        ("Instrument seul", "T1", "Agglomération"): Decimal("187.25"),
        ("Instrument seul", "T2", "Agglomération"): Decimal("55.50"),
    }


def test_an_import_with_wrong_lines_writes_nothing_and_says_why_per_line(secretary, combs, year):
    g = grid(combs, year, items=("Instrument seul",), bands=2, zones=1)
    set_price(g, "Instrument seul", "T1", "Agglomération", "186.50")
    lines = [
        "article;tranche;zone;prix",
        "Instrument seul;T2;Agglomération;12,00",
        "Piano seul;T1;Agglomération;10",
        "Instrument seul;T9;Agglomération;10",
        "Instrument seul;T1;Lune;10",
        "Instrument seul;T1;Agglomération;12,3,4",
        "Instrument seul;T1;Agglomération;-3",
        "Instrument seul;T2;Agglomération;13",
    ]
    response = import_file(secretary, g, "t.csv", "\n".join(lines).encode("utf-8-sig"))
    assert response.status_code == 200
    assert response.context["problems"] == [
        "Ligne 3\u00a0: article inconnu «\u00a0Piano seul\u00a0».",
        "Ligne 4\u00a0: tranche inconnue «\u00a0T9\u00a0».",
        "Ligne 5\u00a0: zone inconnue «\u00a0Lune\u00a0».",
        "Ligne 6\u00a0: " + NOT_A_PRICE,
        "Ligne 7\u00a0: Un prix ne peut pas être négatif.",
        "Ligne 8\u00a0: cette case figure déjà ligne 2.",
    ]
    assert "Ligne 3\u00a0: article inconnu «\u00a0Piano seul\u00a0»." in response.content.decode()
    assert prices_of(g) == {("Instrument seul", "T1", "Agglomération"): Decimal("186.50")}


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("t.csv", b"", "Le fichier soumis est vide."),
        ("t.csv", b"\n;;;\n", "Le fichier est vide."),
        ("t.csv", b"item;band;zone\nx;y;z", "La première ligne doit être les colonnes"),
        ("t.csv", "article;tranche;zone;prix\n\xe9".encode("latin-1"), "n’est pas en UTF-8"),
        ("t.xlsx", b"PK not a workbook", "ni un fichier CSV ni un classeur Excel"),
    ],
)
def test_an_unreadable_file_is_refused(secretary, combs, year, name, content, problem):
    g = grid(combs, year)
    response = import_file(secretary, g, name, content)
    assert response.status_code == 200
    html = response.content.decode()
    assert problem in html
    assert not Price.objects.exists()


def test_an_xlsx_with_an_empty_first_row_is_refused(secretary, combs, year):
    g = grid(combs, year)
    workbook = Workbook()
    workbook.active.append(["article", "tranche", "zone", "prix"])
    workbook.active.append(["Instrument seul", "T1", "Agglomération", "abc"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = import_file(secretary, g, "t.xlsx", buffer.getvalue())
    assert response.context["problems"] == ["Ligne 2\u00a0: " + NOT_A_PRICE]


# Copy to next year.


def copy(client, g, year, percent, rounding):
    return client.post(
        reverse("admin:fees_feegrid_changelist"),
        {
            "action": "copy_grid",
            "_selected_action": [g.pk],
            "apply": "1",
            "school_year": year.pk if year else "",
            "percent": percent,
            "rounding": rounding,
        },
    )


@pytest.fixture
def last_year_grid(combs, year, parent):
    g = grid(combs, year, items=("Instrument seul", "Éveil"), bands=2, zones=2)
    set_price(g, "Instrument seul", "T1", "Agglomération", "186.00")
    set_price(g, "Instrument seul", "T2", "Agglomération", "99.90")
    set_price(g, "Éveil", "T1", "Hors agglomération", "55.00")
    set_price(g, "Éveil", "T2", "Hors agglomération", "0.20")
    reduction = Reduction.objects.create(grid=g, kind="exemption", name="Personnel", percent=100)
    reduction.families.add(parent.family)
    Reduction.objects.create(grid=g, kind="sibling", name="2e enfant", percent=Decimal("10"))
    return g


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        # 186,00 × 1,025 = 190,65; 99,90 × 1,025 = 102,3975; 55,00 × 1,025 = 56,375;
        # 0,20 × 1,025 = 0,205.
        ("cent", ["190.65", "102.40", "56.38", "0.21"]),
        ("euro", ["191.00", "102.00", "56.00", "0.00"]),
    ],
)
def test_copy_to_next_year_with_an_increase(
    secretary, combs, year, last_year_grid, parent, rounding, expected
):
    before = prices_of(last_year_grid)
    next_year = factories.school_year(combs, clock.THIS_YEAR + 1)
    form = secretary.post(
        reverse("admin:fees_feegrid_changelist"),
        {"action": "copy_grid", "_selected_action": [last_year_grid.pk]},
    )
    assert form.status_code == 200
    assert list(form.context["form"].fields["school_year"].queryset) == [next_year]
    response = copy(secretary, last_year_grid, next_year, "2,5", rounding)
    new = FeeGrid.objects.get(school_year=next_year)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:fees_feegrid_change", args=[new.pk])
    assert prices_of(new) == {
        ("Instrument seul", "T1", "Agglomération"): Decimal(expected[0]),
        ("Instrument seul", "T2", "Agglomération"): Decimal(expected[1]),
        ("Éveil", "T1", "Hors agglomération"): Decimal(expected[2]),
        ("Éveil", "T2", "Hors agglomération"): Decimal(expected[3]),
    }
    assert prices_of(last_year_grid) == before
    shift = next_year.start_date - year.start_date
    old_terms = list(last_year_grid.terms.all())
    new_terms = list(new.terms.all())
    assert [(t.number, t.start_date, t.end_date, t.due_date) for t in new_terms] == [
        (t.number, t.start_date + shift, t.end_date + shift, t.due_date + shift) for t in old_terms
    ]
    assert new_terms[0].start_date == next_year.start_date
    assert [
        (z.name, z.is_outside, [str(c) for c in z.communes.all()]) for z in new.zones.all()
    ] == [
        ("Agglomération", False, ["77380 Combs-la-Ville"]),
        ("Hors agglomération", True, []),
    ]
    assert [b.code for b in new.bands.all()] == ["T1", "T2"]
    exemption = new.reductions.get(kind="exemption")
    assert list(exemption.families.all()) == [parent.family]
    assert new.reductions.get(kind="sibling").percent == Decimal("10")
    assert last_year_grid.reductions.get(kind="exemption").families.get() == parent.family
    assert set(new.items.values_list("pk", flat=True)).isdisjoint(
        last_year_grid.items.values_list("pk", flat=True)
    )


def test_copy_refuses_a_year_that_has_a_grid_or_another_sites(
    secretary, combs, ploufragan, year, last_year_grid
):
    theirs = factories.school_year(ploufragan, clock.THIS_YEAR + 1)
    for target in [year, theirs]:
        response = copy(secretary, last_year_grid, target, "2,5", "cent")
        assert response.status_code == 200
        assert response.context["form"].errors == {
            "school_year": ["Choisissez une année du site sans grille."]
        }
    response = copy(secretary, last_year_grid, None, "abc", "cent")
    assert set(response.context["form"].errors) == {"school_year", "percent"}
    assert FeeGrid.objects.count() == 1


def test_the_secretariat_group_gets_the_permissions(db):
    from django.contrib.auth.models import Group

    from fees.permissions import grant_secretariat

    grant_secretariat()
    codenames = set(
        Group.objects.get(name="Secrétariat").permissions.values_list("codename", flat=True)
    )
    assert set(SECRETARIAT_PERMISSIONS) <= codenames
    # The grid and the instalment plans; checking quotients; changing a family's plan.
    assert len(SECRETARIAT_PERMISSIONS) == 36 + 2 + 3


def test_exempted_families_are_offered_from_the_secretarys_site_only(
    secretary, combs, ploufragan, year, parent
):
    stranger = Family.objects.create(site=ploufragan, name="Le Goff")
    reduction = {
        "kind": "exemption",
        "name": "Personnel",
        "from_rank": "2",
        "percent": "100",
        "amount": "",
        "families": [str(stranger.pk)],
    }
    response = secretary.post(
        reverse("admin:fees_feegrid_add"), new_grid_data(combs, year, reductions=[reduction])
    )
    assert response.status_code == 200
    assert "families" in errors_of(response, "reductions")[0]
    assert not FeeGrid.objects.exists()
    autocomplete = secretary.get(
        reverse("admin:autocomplete"),
        {"term": "", "app_label": "fees", "model_name": "reduction", "field_name": "families"},
    )
    assert [r["text"] for r in autocomplete.json()["results"]] == [parent.family.name]
