from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_security_txt(app_configs=None, **kwargs) -> list[Warning]:
    """security.txt must name a real contact in production (RFC 9116)."""
    if any(contact.endswith("example.invalid") for contact in settings.SECURITY_CONTACTS):
        return [
            Warning(
                "SECURITY_CONTACTS still points to the placeholder address.",
                hint="Set SECURITY_CONTACTS to where your organisation takes vulnerability "
                "reports, e.g. mailto:cert@ministerie.nl.",
                id="dilemmagesprek.W001",
            )
        ]
    return []
