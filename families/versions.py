"""Versions of what the parent pages show, for keys of cached fragments.

Two counters, both in the database: ``Family.content_version`` for what
belongs to one family (its people, students, enrollments, documents,
invoices, payments, requests, mandates…) and ``Site.content_version`` for
what every family of a site sees (fee grid, courses, campaigns, settings…).
A cached fragment's key holds both, so a change shows at the next page.

Why the database and not a counter in the cache: the bump is written in the
same transaction as the change it announces, so no reader can see the new
version with the old data, and an emptied or restarted cache forgets nothing.
A request reads the versions first (with the signed-in account) and the data
after, so the worst it can do is store fresh data under an old key.

Every model of the project's apps must say which counter it moves (a test
checks it): by default a ``family`` foreign key moves that family's version
and a ``site`` foreign key its site's; other models declare a path with
``follow()`` in their app's ``ready()``, or ``ignore()`` when no parent page
shows them.

Which paths are covered, and why it cannot be forgotten: ``save()`` and
``delete()`` (including cascades, in ``pre_delete`` while the related rows
still exist) and many-to-many changes through signals; ``QuerySet.update()``,
``bulk_create()`` and ``bulk_update()`` send no signal, so ``install()`` wraps
those three methods of Django's ``QuerySet`` once for every model rather than
relying on each call site (about fifty of them, in tasks, imports, admin
actions) to remember a bump.
"""

import datetime
import functools
from pathlib import Path

from django.apps import apps as global_apps
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import F, QuerySet
from django.db.models.signals import m2m_changed, post_migrate, post_save, pre_delete
from django.utils import translation

from extranet.models import Site

from .models import Family


@functools.cache
def _is_project_app(label):
    """An app of this repository (a folder at its root), not of a library."""
    try:
        return Path(global_apps.get_app_config(label).path).parent == settings.BASE_DIR
    except LookupError:  # a model of a migration's own state
        return False


FAMILY = "family"
SITE = "site"
IGNORED = "ignored"

# model -> (scope, path to the family or site id, e.g. "invoice__family_id")
_rules = {}

_original_update = QuerySet.update
_original_bulk_create = QuerySet.bulk_create
_original_bulk_update = QuerySet.bulk_update


def follow(model, *, family=None, site=None):
    """Declare the path from ``model`` to the id of the family or site whose
    pages show it."""
    if (family is None) == (site is None):
        raise ValueError("Give either a family path or a site path.")
    _rules[model] = (FAMILY, family) if family else (SITE, site)


def ignore(model):
    """Declare that no parent page shows ``model``."""
    _rules[model] = (IGNORED, None)


def rule(model):
    """(scope, path) for a model of the project's apps; None for others."""
    model = model._meta.concrete_model
    if model in _rules:
        return _rules[model]
    if not _is_project_app(model._meta.app_label) or not _registered(model):
        return None
    if _is_history(model) or model._meta.auto_created:
        # History is written with the change it records; many-to-many rows
        # move versions through m2m_changed.
        return (IGNORED, None)
    names = {f.name for f in model._meta.concrete_fields}
    if "family" in names:
        return (FAMILY, "family_id")
    if "site" in names:
        return (SITE, "site_id")
    raise LookupError(
        f"{model._meta.label} moves no content version: declare it in families.versions."
    )


def _registered(model):
    # Migrations work on models of their own, older than the current ones:
    # ``migrated()`` moves every site's version after them instead.
    try:
        return global_apps.get_model(model._meta.label) is model
    except LookupError:
        return False


def migrated(using="default", **kwargs):
    """After ``migrate``: data migrations may have changed anything."""
    try:
        with transaction.atomic(using=using):
            _original_update(
                Site._base_manager.using(using).all(), content_version=F("content_version") + 1
            )
    except DatabaseError:
        pass  # migrated back to before the counter existed


def _is_history(model):
    # simple_history's copies: written with the change they record.
    return hasattr(model, "instance_type") and model._meta.model_name.startswith("historical")


def bump(families=(), sites=()):
    """Move the versions of these families and sites (ids)."""
    families = sorted({pk for pk in families if pk is not None})
    sites = sorted({pk for pk in sites if pk is not None})
    if families:
        _original_update(
            Family._base_manager.filter(pk__in=families),
            content_version=F("content_version") + 1,
        )
    if sites:
        _original_update(
            Site._base_manager.filter(pk__in=sites), content_version=F("content_version") + 1
        )


def _ids_of_objects(model, objs):
    found = rule(model)
    if found is None or found[0] == IGNORED:
        return (), ()
    scope, path = found
    head, _, rest = path.partition("__")
    if not rest:
        ids = {getattr(obj, head) for obj in objs}
    else:
        # One query for all the objects, however many (a bulk of prices).
        field = model._meta.get_field(head)
        parents = {getattr(obj, field.attname) for obj in objs} - {None}
        ids = set(
            field.related_model._base_manager.filter(pk__in=parents)
            .order_by()
            .values_list(rest.removesuffix("_id"), flat=True)
            .distinct()
        )
    return (ids, ()) if scope == FAMILY else ((), ids)


def _ids_of_queryset(queryset):
    found = rule(queryset.model)
    if found is None or found[0] == IGNORED:
        return (), ()
    scope, path = found
    ids = set(queryset.order_by().values_list(path.removesuffix("_id"), flat=True).distinct())
    return (ids, ()) if scope == FAMILY else ((), ids)


def _saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # signing in changes nothing a page shows
    bump(*_ids_of_objects(sender, [instance]))


def _deleting(sender, instance, **kwargs):
    bump(*_ids_of_objects(sender, [instance]))


def _m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    families, sites = (set(ids) for ids in _ids_of_objects(type(instance), [instance]))
    if pk_set:
        others = model._base_manager.filter(pk__in=pk_set)
    elif action == "pre_clear":
        through = sender._meta
        own, other = _through_columns(through, type(instance), model, reverse)
        linked = sender._base_manager.filter(**{own: instance.pk}).values(other)
        others = model._base_manager.filter(pk__in=linked)
    else:
        others = None
    if others is not None:
        more_families, more_sites = _ids_of_queryset(others)
        families.update(more_families)
        sites.update(more_sites)
    bump(families, sites)


def _through_columns(through, instance_model, other_model, reverse):
    own = other = None
    for field in through.concrete_fields:
        if not field.is_relation:
            continue
        target = field.related_model._meta.concrete_model
        if target is instance_model._meta.concrete_model and own is None:
            own = field.attname
        elif target is other_model._meta.concrete_model:
            other = field.attname
    return own, other


def _update(self, **kwargs):
    if rule(self.model) in (None, (IGNORED, None)):
        return _original_update(self, **kwargs)
    # The ids before and after: an update may move rows to another family.
    before = _ids_of_queryset(self)
    count = _original_update(self, **kwargs)
    bump(*before)
    return count


def _bulk_create(self, objs, *args, **kwargs):
    objs = list(objs)
    created = _original_bulk_create(self, objs, *args, **kwargs)
    bump(*_ids_of_objects(self.model, objs))
    return created


def _bulk_update(self, objs, fields, *args, **kwargs):
    objs = list(objs)
    count = _original_bulk_update(self, objs, fields, *args, **kwargs)
    bump(*_ids_of_objects(self.model, objs))
    return count


def install():
    """Connect the signals and wrap the bulk methods (once, from ready())."""
    if QuerySet.update is _update:
        return
    post_save.connect(_saved, dispatch_uid="content-version-save")
    pre_delete.connect(_deleting, dispatch_uid="content-version-delete")
    m2m_changed.connect(_m2m_changed, dispatch_uid="content-version-m2m")
    post_migrate.connect(
        migrated,
        sender=global_apps.get_app_config("families"),
        dispatch_uid="content-version-migrate",
    )
    QuerySet.update = _update
    QuerySet.bulk_create = _bulk_create
    QuerySet.bulk_update = _bulk_update


def family_cache_key(request, family, name, *, day=None):
    """The cache key of a fragment of ``family``'s pages.

    Holds the site and its version, the family and its version, the language
    and, for fragments that depend on the date (an overdue invoice, "this
    week"), the day given as ``day``.
    """
    site = family.site
    parts = [
        "page",
        name,
        f"s{site.pk}.{site.content_version}",
        f"f{family.pk}.{family.content_version}",
        getattr(request, "LANGUAGE_CODE", None) or translation.get_language() or "",
    ]
    if day is not None:
        parts.append(day.isoformat() if isinstance(day, datetime.date) else str(day))
    return ":".join(parts)


# Keys change with the versions: the timeout only frees the memory of old ones.
FRAGMENT_SECONDS = 6 * 3600


def cached(key, make, timeout=FRAGMENT_SECONDS):
    """The value under ``key``, made by ``make()`` and stored when missing."""
    value = cache.get(key)
    if value is None:
        value = make()
        cache.set(key, value, timeout)
    return value


def site_cache_key(site, name):
    """The cache key of data every family of ``site`` shares (e.g. its fee grid)."""
    return f"site:{name}:s{site.pk}.{site.content_version}:{translation.get_language() or ''}"
