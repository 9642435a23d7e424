"""The forms of an HTML page, read as a browser would submit them (no JavaScript)."""

from html.parser import HTMLParser


class Forms(HTMLParser):
    """The forms of a page with what a browser would submit without a click."""

    def __init__(self, html):
        super().__init__()
        self.forms, self._select, self._textarea = [], None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": attrs.get("action", ""), "fields": [], "selects": {}, "radios": {}}
            )
        elif not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input":
            kind = attrs.get("type", "text")
            name = attrs.get("name")
            if not name or kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind == "radio":
                self.forms[-1]["radios"].setdefault(name, attrs.get("value", "on"))
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
            self.forms[-1]["selects"][self._select] = {"first": None, "selected": None}
        elif tag == "option" and self._select:
            select = self.forms[-1]["selects"][self._select]
            value = attrs.get("value", "")
            if select["first"] is None and value:
                select["first"] = value
            if "selected" in attrs:
                select["selected"] = value
        elif tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            fields.append((self._textarea, ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, value = self.forms[-1]["fields"][-1]
            if not value:
                data = data.removeprefix("\n")  # As browsers read a textarea.
            self.forms[-1]["fields"][-1] = (name, value + data)

    def data(self, action=""):
        """What the form posting to `action` (the page's own address by default) submits;
        a group of radio buttons without a choice gets its first one."""
        for form in self.forms:
            if form["action"] == action:
                fields = list(form["fields"])
                named = {name for name, _ in fields}
                for name, select in form["selects"].items():
                    fields.append((name, select["selected"] or ""))
                for name, first in form["radios"].items():
                    if name not in named:
                        fields.append((name, first))
                return fields, form
        raise LookupError(f"no form posting to {action!r}")
