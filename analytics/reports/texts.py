"""Every French string of the monthly report, in one place (an English table can follow with
the same keys), and the French number formats it uses."""

from __future__ import annotations

from datetime import date

__all__ = ["FR", "fr_month", "fr_number", "fr_percent", "text"]

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")

FR: dict[str, str] = {
    "title": "Rapport mensuel — {month}",
    "subtitle": "Qualité des données patient et temps documentaire · établi le {generated} par {user}",
    "footer": "Hygie · rapport pseudonymisé : aucun nom, IPP ni identifiant de soignant ; "
              "effectifs inférieurs à {cell} masqués · page {page}",
    "essentials": "L'essentiel",
    "small": "< {cell}",
    "none": "aucun",
    "not_computed": "non calculé",
    # identity
    "identity.title": "1. Identitovigilance : doublons et collisions",
    "identity.rate": "Le taux de doublons du fichier patients est de {rate} pour une cible de {target} au plus : {verdict}.",
    "identity.rate_above": "au-dessus de la cible",
    "identity.rate_ok": "la cible est atteinte",
    "identity.rate_change": " Il était de {previous} au début du mois ({delta}).",
    "identity.no_run": "Aucune détection de doublons n'a été lancée avant la fin du mois : le taux n'est pas connu.",
    "identity.reviews": "Paires examinées par la cellule d'identitovigilance ce mois-ci : {same} « même personne », "
                        "{not_same} « personnes différentes », {unsure} « incertain ». Paires en attente d'examen "
                        "aujourd'hui : {pending}.",
    "identity.collisions": "Collisions (un dossier, deux personnes) à vérifier : {collisions}.",
    "identity.jobs": "Fusions et annulations du mois : {applied} fusion(s) appliquée(s) ({rows} modifications), "
                     "{undos} annulation(s), {failed} échec(s) ; {messages} message(s) HL7/FHIR produits pour les "
                     "autres logiciels.",
    "identity.no_jobs": "Aucune fusion ni annulation ce mois-ci.",
    "identity.settings": "Seuils de décision de la dernière détection : correspondance ≥ {match}, "
                         "examen ≥ {review}. Taux = dossiers en surplus / dossiers indexés.",
    "identity.chart": "Taux de doublons par détection (%)",
    "identity.target": "cible",
    "identity.table.job": "Traitement",
    "identity.table.applied": "Appliqués",
    "identity.table.undos": "Annulations",
    "identity.table.failed": "Échecs",
    "identity.table.messages": "Messages",
    "job.merge-identities": "Fusion d'identités",
    "job.unmerge-identity": "Défusion d'identité",
    # imports
    "imports.title": "2. Qualité des imports",
    "imports.summary": "{files} fichier(s) importé(s) ce mois-ci, dont {refused} refusé(s) en entier ; "
                       "{rows} ligne(s) chargée(s). Valeurs invalides chargées et signalées : {findings}.",
    "imports.none": "Aucun import ce mois-ci.",
    "imports.meaning": "Une valeur invalide est chargée et signalée, jamais perdue : les services concernés "
                       "doivent corriger la saisie à la source.",
    "imports.chart": "Lignes chargées par table",
    "imports.table.problem": "Anomalie",
    "imports.table.count": "Lignes",
    "table.patients": "Patients", "table.documents": "Documents", "table.audit_events": "Traces DPI",
    "table.staff": "Personnel", "table.schedules": "Plannings",
    # time sinks
    "time.title": "3. Temps documentaire",
    "time.summary": "{clinicians} soignants ont passé {hours} actives dans le DPI ; {outside} de ce temps l'a été "
                    "hors horaires. Temps DPI médian par 8 h programmées : {ehr8}.",
    "time.none": "Aucune trace DPI sur ce mois : pas de temps documentaire à rapporter.",
    "time.top": "Les types de documents qui prennent le plus de temps sont {top}. Une automatisation "
                "(formulaires pré-remplis, modèles, routage) rendrait environ {saved} par mois.",
    "time.masked": " {n} type(s) de document utilisé(s) par moins de {min} soignants ne sont pas détaillés.",
    "time.chart_types": "Heures actives par type de document (aux heures / hors horaires)",
    "time.chart_weeks": "Heures actives par semaine",
    "time.in_hours": "aux heures",
    "time.all_hours": "toutes heures",
    "time.after_hours": "hors horaires",
    "time.purpose": "Finalité : organiser le travail et choisir quoi automatiser, non évaluer les personnes ; "
                    "aucun chiffre individuel.",
    "time.table.type": "Type de document",
    "time.table.hours": "Heures",
    "time.table.after": "Hors horaires",
    "time.table.saved": "Gain estimé / mois",
    "time.unknown_type": "(non renseigné)",
    # backlog
    "backlog.title": "4. Documents non signés à la fin du mois",
    "backlog.summary": "{total} document(s) attendaient une signature à la fin du mois, dont {old} depuis plus "
                       "de 7 jours.",
    "backlog.meaning": "Un document non signé n'est pas transmis : au-delà de 7 jours, relancer les signataires "
                       "(traitement « Router les documents non signés »).",
    "backlog.chart": "Documents non signés par ancienneté",
    "bucket.age_0_2d": "0–2 j", "bucket.age_3_7d": "3–7 j", "bucket.age_8_30d": "8–30 j",
    "bucket.age_over_30d": "> 30 j",
}


def text(key: str, /, **values: object) -> str:
    """The French text ``key`` with ``values`` filled in."""
    return FR[key].format(**values) if values else FR[key]


def fr_number(value: float | int, decimals: int = 0) -> str:
    """1234.5 → '1 234,5' (no-break space thousands separator, decimal comma)."""
    formatted = f"{value:,.{decimals}f}"
    return formatted.replace(",", "\u00a0").replace(".", ",")


def fr_percent(share: float, decimals: int = 1) -> str:
    """0.0892 → '8,9 %'."""
    return f"{fr_number(share * 100, decimals)}\u00a0%"


def fr_month(first_day: date) -> str:
    """date(2026, 11, 1) → 'novembre 2026'."""
    return f"{MONTHS[first_day.month - 1]} {first_day.year}"
