from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """django-htmx reads `csp_nonce`; django-csp provides the nonce on the request."""
    return {"csp_nonce": str(getattr(request, "csp_nonce", ""))}
