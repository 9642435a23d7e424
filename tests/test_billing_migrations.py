import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_billing_models_and_migrations_agree():
    # makemigrations --check exits with 1 when a model change has no migration.
    call_command("makemigrations", "billing", "--check", "--dry-run", verbosity=0)
