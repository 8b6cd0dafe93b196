"""``{% render_panel %}``: renders one capability's dashboard panel with its own context."""

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, entry):  # type: ignore[no-untyped-def]
    """Render one dashboard panel's template with its own context."""
    request = context["request"]
    panel_context = {**entry["context"], "panel": entry["panel"]}
    return render_to_string(entry["panel"].template, panel_context, request=request)
