"""The campaign-opening load test, run small so that it keeps working: a few parents through
nginx and two nodes for a few seconds, every request answered as expected and every e-mail
delivered once."""

import json
import sys
from pathlib import Path

import pytest

# A short load test through the nodes, on a PostgreSQL database of its own whatever the
# suite's database: see the `deployment` marker in pyproject.toml.
pytestmark = pytest.mark.deployment

ROOT = Path(__file__).resolve().parent.parent


def test_a_short_campaign_opening_fails_nothing_and_loses_no_email(tmp_path, free_port):
    sys.path.insert(0, str(ROOT / "bench"))
    import campaign_load

    result_file = tmp_path / "campaign.json"
    status = campaign_load.main(
        [
            "--users",
            "3",
            "--duration",
            "20",
            "--families",
            "30",
            "--think",
            "0.2",
            "--port",
            str(free_port),
            "--json",
            str(result_file),
        ]
    )
    result = json.loads(result_file.read_text())
    assert status == 0, result.get("failures")
    steps = result["steps"]
    for step in [
        "connexion (POST)",
        "accueil",
        "réinscription : dépôt d'un document",
        "réinscription : validation (POST)",
        "banque simulée (Payer)",
        "paiement : retour",
        "déconnexion",
    ]:
        assert steps[step]["requests"] > 0 and steps[step]["failures"] == 0, step
    done, mail = result["done"], result["mail"]
    assert done["requests_sent"] >= 2 and done["online_payments"] >= 1
    # Each request sent: the family and the site told; each payment: its receipt.
    assert mail["expected"] == 2 * done["requests_sent"] + done["online_payments"]
    assert mail["delivered"] == mail["expected"] and mail["lost"] == 0
