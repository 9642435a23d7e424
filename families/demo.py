"""Demonstration families, one parent account `demo` on each site, and the
documents each site asks for."""

from documents.models import DocumentKind
from extranet.demo import ensure_account, secretariat_group
from extranet.models import Site

from .models import Family, Guardian

FAMILIES = {
    "combs-la-ville": {
        "name": "Martin",
        "reference_email": "famille.martin@example.org",
        "reference_mobile": "+33612345678",
        "guardians": [
            {
                "civility": "MME",
                "first_name": "Claire",
                "last_name": "Martin",
                "birth_name": "Durand",
                "address_line1": "12 rue des Tilleuls",
                "postal_code": "77380",
                "city": "Combs-la-Ville",
                "mobile_phone": "+33612345678",
                "email": "claire.martin@example.org",
                "is_payer": True,
            },
            {
                "civility": "M",
                "first_name": "Julien",
                "last_name": "Martin",
                "address_line1": "12 rue des Tilleuls",
                "postal_code": "77380",
                "city": "Combs-la-Ville",
                "mobile_phone": "+33687654321",
            },
        ],
    },
    "ploufragan": {
        "name": "Le Goff",
        "reference_email": "famille.legoff@example.org",
        "reference_mobile": "+33698765432",
        "guardians": [
            {
                "civility": "M",
                "first_name": "Yann",
                "last_name": "Le Goff",
                "address_line1": "Place de l'Église",
                "postal_code": "22440",
                "city": "Ploufragan",
                "mobile_phone": "+33698765432",
                "is_payer": True,
            },
        ],
    },
}

# The family documents each site asks for, as its user guide lists them.
DOCUMENT_KINDS = {
    "combs-la-ville": [
        {
            "name": "Justificatif de domicile",
            "help_text": "De moins de 3 mois.",
            "required": True,
            "proves_address": True,
            "validity": DocumentKind.Validity.MONTHS,
            "validity_months": 3,
            "position": 1,
        },
        {
            "name": "Avis d'imposition",
            "help_text": "Avis de l'année précédente, pour le quotient familial.",
            "validity": DocumentKind.Validity.SCHOOL_YEAR,
            "position": 2,
        },
        {
            "name": "Attestation de responsabilité civile",
            "help_text": "Pour l'année scolaire en cours.",
            "validity": DocumentKind.Validity.SCHOOL_YEAR,
            "position": 3,
        },
    ],
    # Ploufragan's guide: « Justificatif de domicile datant de moins de 3 mois
    # pour l'inscription à l'école de musique », one per family. (Its dance
    # document concerns each student: see students/demo.py.)
    "ploufragan": [
        {
            "name": "Justificatif de domicile de moins de 3 mois",
            "help_text": "Un par famille, pour l'inscription à l'école de musique "
            "(format PDF ou JPEG).",
            "required": True,
            "proves_address": True,
            "validity": DocumentKind.Validity.MONTHS,
            "validity_months": 3,
            "position": 1,
        },
    ],
}


SECRETARIAT_PERMISSIONS = [
    "view_family",
    "add_family",
    "change_family",
    "view_guardian",
    "add_guardian",
    "change_guardian",
    "delete_guardian",
    "view_familydocument",
    "change_familydocument",
    "view_documentkind",
    "add_documentkind",
    "change_documentkind",
]


def load(stdout):
    secretariat_group("families", SECRETARIAT_PERMISSIONS)
    for slug, data in FAMILIES.items():
        site = Site.objects.get(slug=slug)
        family, created = Family.objects.get_or_create(
            site=site,
            name=data["name"],
            defaults={
                "reference_email": data["reference_email"],
                "reference_mobile": data["reference_mobile"],
            },
        )
        if created:
            for position, guardian in enumerate(data["guardians"], start=1):
                Guardian.objects.create(family=family, position=position, **guardian)
        ensure_account(
            site, "demo", family=family, email=data["reference_email"], last_name=data["name"]
        )
        for kind in DOCUMENT_KINDS[slug]:
            DocumentKind.objects.get_or_create(site=site, name=kind["name"], defaults=kind)
    stdout.write("Families Martin (Combs-la-Ville) and Le Goff (Ploufragan) ready.")
