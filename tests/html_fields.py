"""Checks on a rendered field group: its label, its error next to it, and the
input (or the fieldset of a choice) pointing to the error."""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _GroupParser(HTMLParser):
    """The tags inside the element with a given id (itself included)."""

    def __init__(self, element_id):
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.tags = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if not self.depth and attrs.get("id") != self.element_id:
            return
        self.tags.append((tag, attrs))
        if tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth and tag not in VOID:
            self.depth -= 1


def field_group(html, name):
    parser = _GroupParser(f"div_id_{name}")
    parser.feed(html)
    assert parser.tags, f"no field group for {name}"
    return parser.tags


def assert_error_next_to_field(html, name):
    tags = field_group(html, name)
    error_id = f"id_{name}_error"
    errors = [attrs for tag, attrs in tags if attrs.get("id") == error_id]
    assert errors and "invalid-feedback" in errors[0].get("class", ""), f"no error by {name}"
    assert any(tag in ("label", "legend") for tag, _ in tags), f"{name} has no label"
    inputs = [attrs for tag, attrs in tags if tag in ("input", "select", "textarea")]
    assert inputs and all(attrs.get("aria-invalid") == "true" for attrs in inputs)
    assert all("is-invalid" in attrs.get("class", "").split() for attrs in inputs)
    described = [
        tag for tag, attrs in tags if error_id in attrs.get("aria-describedby", "").split()
    ]
    # The input itself, or the fieldset around a choice's options.
    assert described and set(described) <= {"input", "select", "textarea", "fieldset"}, described
