"""The STORAGES setting from the environment (imported by the settings, so
nothing of Django's runtime here)."""

from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured


def storages_from_environment(environ, documents_root, media_root):
    """The "default" (logos) and "documents" entries of STORAGES."""
    backend = environ.get("STORAGE_BACKEND", "filesystem").strip().lower()
    if backend == "filesystem":
        return {
            "default": {
                "BACKEND": "extranet.storage.PrivateFileSystemStorage",
                "OPTIONS": {"location": media_root},
            },
            "documents": {
                "BACKEND": "extranet.storage.PrivateFileSystemStorage",
                "OPTIONS": {"location": documents_root},
            },
        }
    if backend != "s3":
        raise ImproperlyConfigured(
            f"STORAGE_BACKEND must be 'filesystem' or 's3', not {backend!r}."
        )
    bucket = environ.get("S3_BUCKET", "")
    if not bucket:
        raise ImproperlyConfigured("S3_BUCKET must be set when STORAGE_BACKEND is 's3'.")
    endpoint = environ.get("S3_ENDPOINT_URL") or None
    # Path-style addresses work with any S3-compatible server (MinIO, Garage,
    # Ceph...); virtual-hosted ones need a DNS name per bucket.
    addressing = environ.get("S3_ADDRESSING_STYLE", "path" if endpoint else "auto")
    if addressing not in {"auto", "path", "virtual"}:
        raise ImproperlyConfigured("S3_ADDRESSING_STYLE must be 'auto', 'path' or 'virtual'.")
    # Short timeouts and few retries: when the object storage is down, an
    # upload is refused within seconds instead of holding a web worker.
    client_config = Config(
        connect_timeout=float(environ.get("S3_CONNECT_TIMEOUT", "2")),
        read_timeout=float(environ.get("S3_READ_TIMEOUT", "10")),
        retries={"max_attempts": int(environ.get("S3_MAX_ATTEMPTS", "2")), "mode": "standard"},
        s3={"addressing_style": addressing},
        signature_version="s3v4",
    )
    common = {
        "endpoint_url": endpoint,
        "region_name": environ.get("S3_REGION") or None,
        "access_key": environ.get("S3_ACCESS_KEY_ID") or environ.get("AWS_ACCESS_KEY_ID"),
        "secret_key": environ.get("S3_SECRET_ACCESS_KEY") or environ.get("AWS_SECRET_ACCESS_KEY"),
        "client_config": client_config,
        # A file read whole (an e-mail attachment) is kept in memory up to
        # this size, then spooled to a temporary file.
        "max_memory_size": 1024 * 1024,
    }
    return {
        "default": {
            "BACKEND": "extranet.storage.PrivateS3Storage",
            "OPTIONS": {
                **common,
                "bucket_name": environ.get("S3_MEDIA_BUCKET") or bucket,
                "location": environ.get("S3_MEDIA_PREFIX", "media"),
            },
        },
        "documents": {
            "BACKEND": "extranet.storage.PrivateS3Storage",
            "OPTIONS": {
                **common,
                "bucket_name": bucket,
                "location": environ.get("S3_DOCUMENTS_PREFIX", "documents"),
            },
        },
    }
