"""The portal's field groups (extranet/forms/field.html): Bootstrap's markup with
real labels, required marks, and help and errors linked to their input."""

from django import forms
from django.forms.renderers import get_default_renderer
from django.template import engines

from extranet.form_rendering import FormRenderer

from .html_fields import assert_error_next_to_field, field_group


class EveryKindForm(forms.Form):
    name = forms.CharField(label="Nom", help_text="Tel qu’écrit sur la carte.")
    remarks = forms.CharField(label="Remarques", required=False, widget=forms.Textarea)
    kind = forms.ChoiceField(label="Type", choices=[("", "---"), ("a", "A"), ("b", "B")])
    agreed = forms.BooleanField(label="D’accord", help_text="Obligatoire.")
    answer = forms.ChoiceField(
        label="Réponse", choices=[("yes", "Oui"), ("no", "Non")], widget=forms.RadioSelect
    )
    file = forms.FileField(label="Fichier")
    version = forms.CharField(widget=forms.HiddenInput, required=False)


def render(form):
    return "".join(str(field.as_field_group()) for field in form)


def test_the_portal_renders_its_fields():
    assert isinstance(get_default_renderer(), FormRenderer)


def test_templates_are_compiled_once():
    # Django caches compiled templates unless told otherwise: the pages' engine
    # and the forms' own.
    for engine in (engines["django"].engine, get_default_renderer().engine.engine):
        assert engine.loaders[0][0] == "django.template.loaders.cached.Loader"


def test_labels_required_marks_and_help():
    html = render(EveryKindForm())
    name = dict(field_group(html, "name"))
    assert name["label"] == {"for": "id_name", "class": "form-label requiredField"}
    assert '<span class="asteriskField">*</span>' in html
    assert name["input"]["class"] == "textinput form-control"
    assert name["input"]["aria-describedby"] == "id_name_helptext"
    assert field_group(html, "name")[0] == ("div", {"id": "div_id_name", "class": "mb-3"})
    assert 'id="id_name_helptext" class="form-text">Tel qu’écrit sur la carte.</div>' in html
    remarks = dict(field_group(html, "remarks"))
    assert (
        remarks["label"]["class"] == "form-label" and "aria-describedby" not in remarks["textarea"]
    )
    assert dict(field_group(html, "kind"))["select"]["class"] == "select form-select"
    agreed = dict(field_group(html, "agreed"))
    assert agreed["input"]["class"] == "checkboxinput form-check-input"
    assert agreed["label"]["class"] == "form-check-label requiredField"
    answer = field_group(html, "answer")
    assert [attrs["class"] for tag, attrs in answer if tag == "legend"] == [
        "form-label requiredField fs-6"
    ]
    assert [attrs["id"] for tag, attrs in answer if tag == "input"] == [
        "id_answer_0",
        "id_answer_1",
    ]
    assert dict(field_group(html, "file"))["input"]["class"] == "clearablefileinput form-control"
    assert '<input type="hidden" name="version" id="id_version">' in html
    assert "div_id_version" not in html


def test_errors_stand_by_their_field():
    form = EveryKindForm(data={"kind": "z", "answer": "maybe"})
    html = render(form)
    for name in ("name", "kind", "agreed", "answer", "file"):
        assert_error_next_to_field(html, name)
    # Help first, then the error, as Django orders them.
    assert dict(field_group(html, "name"))["input"]["aria-describedby"] == (
        "id_name_helptext id_name_error"
    )
    assert dict(field_group(html, "answer"))["fieldset"]["aria-describedby"] == "id_answer_error"
    assert '<p id="error_1_id_kind"><strong>' in html


def test_values_are_escaped():
    form = EveryKindForm(data={"name": '"><script>alert(1)</script>', "answer": "<b>"})
    html = render(form)
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html
