def portal(request):
    """The site and family of the signed-in account, for the page shell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"portal_site": user.site, "portal_family": user.family}
