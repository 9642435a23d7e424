"""One form per kind of row: the same French messages as the portal's forms,
no database access (thousands of rows are checked in seconds)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from families.forms import PHONE_ERROR
from families.validators import (
    is_france,
    validate_adult_birth_date,
    validate_birth_date,
    validate_department,
    validate_postal_code,
)

from .readers import Number

DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"]
TRUE = {"oui", "o", "1", "x", "vrai", "yes", "true"}
FALSE = {"", "non", "n", "0", "faux", "no", "false"}


class YesNoField(forms.Field):
    def to_python(self, value):
        text = (value or "").strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValidationError(_("Write “oui” or “non”."), code="yes_no")


class MappedChoiceField(forms.CharField):
    """Accepts the ways offices write a choice ("Mme", "Madame"…)."""

    def __init__(self, mapping, **kwargs):
        self.mapping = mapping
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value).strip().lower().rstrip(".")
        if not text:
            return ""
        if text not in self.mapping:
            raise ValidationError(
                _("Unknown value “%(value)s”."), code="choice", params={"value": value}
            )
        return self.mapping[text]


def phone():
    return PhoneNumberField(region="FR", required=False, error_messages={"invalid": PHONE_ERROR})


def date_field(required=False):
    return forms.DateField(input_formats=DATE_FORMATS, required=required)


CIVILITIES = {"m": "M", "mr": "M", "monsieur": "M", "mme": "MME", "madame": "MME", "mlle": "MME"}
SEXES = {
    "f": "F",
    "féminin": "F",
    "feminin": "F",
    "fille": "F",
    "m": "M",
    "masculin": "M",
    "garçon": "M",
    "garcon": "M",
}
PERSON_TYPES = {
    "responsable": "guardian",
    "resp": "guardian",
    "eleve": "student",
    "élève": "student",
}


class PersonRow(forms.Form):
    """A row of the families file: a responsable or a student of a family."""

    # Other names offices give the columns (after normalisation).
    ALIASES = {
        "reference": "ref",
        "ref_personne": "ref",
        "reference_famille": "ref_famille",
        "famille": "nom_famille",
        "e_mail_reference": "email_reference",
        "courriel_reference": "email_reference",
        "telephone_reference": "mobile_reference",
        "login": "identifiant",
        "nom_naissance": "nom_naissance",
        "nom_jeune_fille": "nom_naissance",
        "ne_le": "date_naissance",
        "departement": "departement_naissance",
        "adresse_1": "adresse",
        "adresse_2": "complement_adresse",
        "cp": "code_postal",
        "commune": "ville",
        "telephone_domicile": "tel_domicile",
        "tel_fixe": "tel_domicile",
        "telephone_mobile": "mobile",
        "portable": "mobile",
        "tel_portable": "mobile",
        "telephone_travail": "tel_travail",
        "telephone_professionnel": "tel_travail",
        "e_mail": "email",
        "courriel": "email",
        "etablissement_scolaire": "ecole",
        "droit_a_image": "droit_image",
        "droit_image": "droit_image",
    }

    type = MappedChoiceField(
        PERSON_TYPES, error_messages={"required": _("This field is required.")}
    )
    ref = forms.CharField(max_length=64)
    ref_famille = forms.CharField(max_length=64)
    nom_famille = forms.CharField(max_length=150, required=False)
    email_reference = forms.EmailField(required=False)
    mobile_reference = phone()
    identifiant = forms.RegexField(r"^[\w.@+-]+$", max_length=150, required=False)
    civilite = MappedChoiceField(CIVILITIES, required=False)
    nom = forms.CharField(max_length=100)
    nom_naissance = forms.CharField(max_length=100, required=False)
    prenom = forms.CharField(max_length=100)
    sexe = MappedChoiceField(SEXES, required=False)
    date_naissance = date_field()
    lieu_naissance = forms.CharField(max_length=100, required=False)
    departement_naissance = forms.CharField(max_length=3, required=False)
    adresse = forms.CharField(max_length=150, required=False)
    complement_adresse = forms.CharField(max_length=150, required=False)
    code_postal = forms.CharField(max_length=10, required=False)
    ville = forms.CharField(max_length=100, required=False)
    pays = forms.CharField(max_length=60, required=False)
    tel_domicile = phone()
    mobile = phone()
    tel_travail = phone()
    email = forms.EmailField(required=False)
    payeur = YesNoField(required=False)
    ecole = forms.CharField(max_length=150, required=False)
    classe = forms.CharField(max_length=40, required=False)
    droit_image = YesNoField(required=False)

    GUARDIAN_REQUIRED = ["civilite", "adresse", "code_postal", "ville"]
    STUDENT_REQUIRED = ["date_naissance"]

    # A spreadsheet that holds codes as numbers drops their leading zeros:
    # 07700 becomes 7700, 01 becomes 1. Only such cells are padded, and only
    # for France: a typo in a text cell stays an error.
    def clean_code_postal(self):
        value = self.cleaned_data["code_postal"]
        france = is_france(self.data.get("pays", ""))
        if isinstance(self.data.get("code_postal"), Number) and france and len(value) == 4:
            return value.zfill(5)
        return value

    def clean_departement_naissance(self):
        value = self.cleaned_data["departement_naissance"].upper()
        if isinstance(self.data.get("departement_naissance"), Number) and len(value) == 1:
            value = value.zfill(2)
        validate_department(value)
        return value

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("type")
        required = self.GUARDIAN_REQUIRED if kind == "guardian" else self.STUDENT_REQUIRED
        for name in required:
            if name not in self.errors and not cleaned.get(name):
                self.add_error(name, _("This field is required."))
        birth = cleaned.get("date_naissance")
        if birth:
            try:
                (validate_adult_birth_date if kind == "guardian" else validate_birth_date)(birth)
            except ValidationError as error:
                self.add_error("date_naissance", error)
        try:
            validate_postal_code(cleaned.get("code_postal"), cleaned.get("pays"))
        except ValidationError as error:
            self.add_error("code_postal", error.message_dict["postal_code"])
        return cleaned


CATEGORIES = {
    "instrument": "instrument",
    "formation musicale": "musicianship",
    "fm": "musicianship",
    "danse": "dance",
    "theatre": "theatre",
    "théâtre": "theatre",
    "pratique collective": "ensemble",
    "autre": "other",
}
WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}


class CourseRow(forms.Form):
    ALIASES = {
        "reference": "ref_cours",
        "annee_scolaire": "annee",
        "prof": "professeur",
        "enseignant": "professeur",
        "debut": "heure_debut",
        "fin": "heure_fin",
    }

    ref_cours = forms.CharField(max_length=64)
    annee = forms.RegexField(
        r"^\d{4}-\d{4}$", error_messages={"invalid": _("Write the school year as 2026-2027.")}
    )
    debut_annee = date_field(required=True)
    fin_annee = date_field(required=True)
    discipline = forms.CharField(max_length=100)
    categorie = MappedChoiceField(CATEGORIES, required=False)
    niveau = forms.CharField(max_length=60, required=False)
    professeur = forms.CharField(max_length=201, required=False)
    jour = MappedChoiceField(WEEKDAYS)
    heure_debut = forms.TimeField(input_formats=["%H:%M", "%Hh%M", "%H:%M:%S"])
    heure_fin = forms.TimeField(input_formats=["%H:%M", "%Hh%M", "%H:%M:%S"])
    salle = forms.CharField(max_length=100, required=False)
    collectif = YesNoField(required=False)
    methodes = forms.CharField(required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("heure_debut"), cleaned.get("heure_fin")
        if start and end and end <= start:
            self.add_error("heure_fin", _("The lesson must end after it starts."))
        first, last = cleaned.get("debut_annee"), cleaned.get("fin_annee")
        if first and last and last <= first:
            self.add_error("fin_annee", _("The year must end after it starts."))
        return cleaned


class EnrollmentRow(forms.Form):
    ALIASES = {"eleve": "ref_eleve", "cours": "ref_cours"}

    ref_eleve = forms.CharField(max_length=64)
    ref_cours = forms.CharField(max_length=64)
    niveau = forms.CharField(max_length=60, required=False)
