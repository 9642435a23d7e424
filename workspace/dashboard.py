"""The figures of the secretariat's day ("Aujourd'hui")."""


def context(request):
    return {}
