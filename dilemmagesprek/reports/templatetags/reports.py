"""`{% report_exporters as exporters %}`: the formats the download links offer."""

from django import template

from ..exporters import EXPORTERS, Exporter

register = template.Library()


@register.simple_tag
def report_exporters() -> list[Exporter]:
    return list(EXPORTERS.values())
