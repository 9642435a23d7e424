"""What the secretariat may do with the fee grids: the demo (fees/demo.py)
grants it to the demo secretaries' group, the tests to their secretary."""

from extranet.demo import secretariat_group

MODELS = [
    "feegrid",
    "term",
    "zone",
    "commune",
    "band",
    "feeitem",
    "price",
    "reduction",
    "instalmentplan",
]

SECRETARIAT_PERMISSIONS = [
    f"{action}_{model}" for model in MODELS for action in ["view", "add", "change", "delete"]
] + [
    "view_familyincome",
    "change_familyincome",
    "view_planchoice",
    "add_planchoice",
    "change_planchoice",
]


def grant_secretariat():
    """Give the demo secretaries' group the permissions above."""
    return secretariat_group("fees", SECRETARIAT_PERMISSIONS)
