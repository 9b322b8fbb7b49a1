"""The French strings the engine hands to the dashboard with each time figure (one place)."""

from __future__ import annotations

from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["automation_label", "backlog_label", "settings_label"]

SETTINGS_TEMPLATE = (
    "seuil d'inactivité {threshold} · hors horaires : planning, sinon "
    "{start}–{end} jours ouvrés (week-ends et jours fériés {country} hors horaires)"
)
AUTOMATION_TEMPLATE = "hypothèse : {share:.0f} % du temps automatisable"
BACKLOG_TEMPLATE = "âge au {as_of:%d/%m/%Y %H:%M}"


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def settings_label(settings: TimeSinkSettings) -> str:
    """E.g. ``seuil d'inactivité 5 min · hors horaires : planning, sinon 08:00–18:00 ...``."""
    country = settings.holiday_country + (
        f"-{settings.holiday_subdivision}" if settings.holiday_subdivision else ""
    )
    return SETTINGS_TEMPLATE.format(
        threshold=_duration(settings.idle_threshold_s),
        start=f"{settings.workday_start:%H:%M}",
        end=f"{settings.workday_end:%H:%M}",
        country=country,
    )


def automation_label(share: float) -> str:
    return AUTOMATION_TEMPLATE.format(share=share * 100)


def backlog_label(as_of) -> str:  # noqa: ANN001 - datetime
    return BACKLOG_TEMPLATE.format(as_of=as_of)
