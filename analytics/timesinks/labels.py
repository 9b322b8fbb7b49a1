"""The French strings the engine hands to the dashboard with each time figure (one place)."""

from __future__ import annotations

from analytics.timesinks.settings import TimeSinkSettings

__all__ = [
    "PURPOSE",
    "automation_label", "backlog_label", "coverage_label", "period_label", "role_label", "settings_label",
]

SETTINGS_TEMPLATE = (
    "seuil d'inactivité {threshold} · hors horaires : planning, sinon "
    "{start}–{end} jours ouvrés (week-ends et jours fériés {country} hors horaires)"
)
AUTOMATION_TEMPLATE = "hypothèse : {share:.0f} % du temps automatisable"
EVIDENCE_TEMPLATE = ("gain mesuré : {recovery:.0f} % du temps passé sur les passages ressaisis "
                     "et tout le temps passé sur les documents en double")
BACKLOG_TEMPLATE = "âge au {as_of:%d/%m/%Y %H:%M}"
#: The purpose stated on the time-sinks page and in every time-sinks export.
PURPOSE = ("finalité : organiser le travail et choisir quoi automatiser, "
           "pas évaluer les personnes")
PERIOD_TEMPLATE = "période du {first:%d/%m/%Y} au {last:%d/%m/%Y}"
COVERAGE_TEMPLATE = "planning couvrant {share:.0f} % des jours"
#: Population of a figure: the measures are defined for physicians (Sinsky et al. 2020); other
#: roles get them on request, labelled as such.
ROLE_LABELS = {
    None: "tous rôles (mesures définies pour les médecins : indicatif pour les autres)",
    "physician": "médecins",
    "resident": "internes (indicatif : mesures définies pour les médecins seniors)",
    "nurse": "infirmiers (indicatif : mesures définies pour les médecins)",
    "midwife": "sages-femmes (indicatif : mesures définies pour les médecins)",
    "secretary": "secrétaires (indicatif : mesures définies pour les médecins)",
}


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


def automation_label(share: float, retyped_recovery: float | None = None) -> str:
    """The assumptions behind "hours saved": the flat share, and the share of measured
    re-typing time a pre-filled form would spare (gains from evidence)."""
    text = AUTOMATION_TEMPLATE.format(share=share * 100)
    if retyped_recovery is not None:
        text = EVIDENCE_TEMPLATE.format(recovery=retyped_recovery * 100) + " · " + text
    return text


def backlog_label(as_of) -> str:  # noqa: ANN001 - datetime
    return BACKLOG_TEMPLATE.format(as_of=as_of)


def period_label(first, last) -> str:  # noqa: ANN001 - dates or None
    """E.g. ``période du 28/09/2026 au 22/11/2026``; empty without data."""
    if first is None or last is None:
        return ""
    return PERIOD_TEMPLATE.format(first=first, last=last)


def coverage_label(share: float | None) -> str:
    """E.g. ``planning couvrant 62 % des jours``; empty when unknown."""
    if share is None or share != share:  # None or NaN
        return ""
    return COVERAGE_TEMPLATE.format(share=share * 100)


def role_label(role: str | None) -> str:
    """The population a figure is about, in French."""
    return ROLE_LABELS.get(role, f"rôle « {role} » (indicatif : mesures définies pour les médecins)")
