"""`{% woo_reference as woo %}`: the Woo reference (methods/woo.toml) for a template."""

from django import template

from dilemmagesprek.methods.woo import WooReference
from dilemmagesprek.methods.woo import woo_reference as load_reference

register = template.Library()


@register.simple_tag
def woo_reference() -> WooReference:
    return load_reference()
