"""Where stored files live and how they are read back.

Families' documents, the PDFs (invoices, receipts, letters, mandates, bank
files) and the sites' logos go through Django's storages: the server's disk
by default, an S3-compatible object storage when STORAGE_BACKEND=s3 (several
app nodes then share them). Either way no stored file has a public address:
`url()` refuses, and the application serves each file after its own checks
(extranet/responses.py `serve_stored_file`).
"""

import logging
import os
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

logger = logging.getLogger(__name__)

# What a storage that cannot be reached (disk, network, object storage
# refusing or timing out) raises.
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


class NoPublicURL:
    def url(self, name, *args, **kwargs):
        raise NotImplementedError(
            "Stored files have no public address: a view serves them after checking who asks."
        )


class PrivateFileSystemStorage(NoPublicURL, FileSystemStorage):
    pass


class PrivateS3Storage(NoPublicURL, S3Storage):
    """Objects written without any ACL grant beyond the owner's ("private"),
    in a bucket that is never published."""

    default_acl = "private"
    querystring_auth = True
    # The S3 default overwrites an object saved under a name already used;
    # the disk storage picks a free name instead. The PDFs rely on that: when
    # two workers render one invoice, the second deletes its own file.
    file_overwrite = False

    def open_stream(self, name):
        """The object's body as a file read in chunks, and its length: a
        download goes from the object storage to the client without being
        held whole in memory or on disk."""
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(name) from error
            raise
        return answer["Body"], answer["ContentLength"]

    def check(self):
        self.connection.meta.client.head_bucket(Bucket=self.bucket_name)


class LazyStorage(LazyObject):
    """storages[alias], looked up at first use rather than when the models
    are loaded (a FileField calls its storage callable then), and again after
    the STORAGES setting changes, as Django does for `default_storage`."""

    def __init__(self, alias):
        super().__init__()
        self.__dict__["_alias"] = alias

    def _setup(self):
        self._wrapped = storages[self.__dict__["_alias"]]


_lazy_storages = []


def lazy_storage(alias):
    storage = LazyStorage(alias)
    _lazy_storages.append(storage)
    return storage


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        for storage in _lazy_storages:
            storage._wrapped = empty


def open_stream(field_file):
    """(file-like read in chunks, size in bytes) of a stored file."""
    storage = field_file.storage
    if isinstance(storage, PrivateS3Storage):
        return storage.open_stream(field_file.name)
    stream = storage.open(field_file.name, "rb")
    return stream, stream.size


def check_storage(storage):
    """Raise one of STORAGE_ERRORS unless the storage answers (the bucket
    exists and the credentials are accepted; the folder can be written)."""
    if isinstance(storage, PrivateS3Storage):
        storage.check()
        return
    # FileSystemStorage creates its folder at the first save; so does this.
    location = Path(storage.location)
    location.mkdir(parents=True, exist_ok=True)
    if not os.access(location, os.W_OK | os.X_OK):
        raise PermissionError(f"{location} is not writable")


def retry_delay(attempt):
    """1, 2, 4… times the base delay, at most an hour."""
    return timedelta(seconds=min(settings.STORAGE_RETRY_BASE_SECONDS * 2 ** (attempt - 1), 3600))


@contextmanager
def retried_when_storage_down(attempt, requeue, what):
    """Around a task's work with the storage: when the storage cannot be
    reached, `requeue(run_after)` queues the task again later (with a growing
    delay) and the error is re-raised, so that the failed attempt stays
    visible in the task results."""
    try:
        yield
    except STORAGE_ERRORS:
        if attempt >= settings.STORAGE_MAX_ATTEMPTS:
            logger.error("Giving up on %s after %d attempts: storage unavailable", what, attempt)
            raise
        run_after = timezone.now() + retry_delay(attempt)
        logger.warning(
            "Storage unavailable for %s (attempt %d), retrying at %s", what, attempt, run_after
        )
        requeue(run_after)
        raise
