"""Every user-facing string of the dashboard, in one place.

Pages never hold literal UI text: they call :func:`t` with a message id. French is the only
language for now; an English table can be added under ``MESSAGES["en"]`` with the same ids
and chosen with ``HYGIE_LANG=en``.
"""

from __future__ import annotations

import os

__all__ = ["MESSAGES", "t"]

FR: dict[str, str] = {
    # --- application shell ---------------------------------------------------------------
    "app.title": "Hygie",
    "app.tagline": "Qualité des données hospitalières",
    "nav.section.pilot": "Pilotage",
    "nav.section.work": "Traitements",
    "nav.section.data": "Données",
    "nav.overview": "Vue d'ensemble",
    "nav.duplicates": "Doublons",
    "nav.time_sinks": "Temps documentaire",
    "nav.jobs": "Travaux de nettoyage",
    "nav.data": "Imports",
    "nav.exports": "Exports",
    "nav.admin": "Administration",
    "nav.login": "Connexion",
    "error.generic": "Une erreur inattendue est survenue. L'incident a été journalisé ; "
    "réessayez ou contactez l'administrateur de Hygie.",
    "error.warehouse": "L'entrepôt de données est indisponible : {message}",
    "error.no_db": "Aucun entrepôt configuré (variable HYGIE_DB absente). Lancez le tableau de "
    "bord avec « hygie serve ».",
    "unavailable": "Cette fonction n'est pas encore disponible dans cette version de Hygie ({what}).",
    "denied.page": "Votre rôle ({role}) ne donne pas accès à cette fonction.",
    "empty.table": "Aucune donnée pour l'instant.",
    "paging.label": "Page",
    "paging.caption": "Lignes {first}–{last} sur {total}",
    # --- roles ---------------------------------------------------------------------------
    "role.admin": "administrateur",
    "role.manager": "responsable",
    "role.analyst": "analyste",
    "role.viewer": "lecteur",
    # --- login ---------------------------------------------------------------------------
    "login.title": "Connexion à Hygie",
    "login.intro": "Accès réservé au personnel habilité. Chaque consultation de données "
    "patient est tracée.",
    "login.username": "Identifiant",
    "login.password": "Mot de passe",
    "login.submit": "Se connecter",
    "login.error.invalid_credentials": "Identifiant ou mot de passe incorrect.",
    "login.error.locked": "Trop d'échecs de connexion : le compte est verrouillé pour un moment. "
    "Réessayez plus tard ou contactez l'administrateur.",
    "login.missing": "Saisissez votre identifiant et votre mot de passe.",
    "login.oidc": "Se connecter avec le compte de l'établissement",
    "login.oidc_no_role": "Votre compte de l'établissement n'est rattaché à aucun rôle Hygie. "
    "Demandez un accès à l'administrateur.",
    "login.expired": "Votre session a expiré après {minutes} minutes d'inactivité. "
    "Reconnectez-vous.",
    "login.unavailable": "La gestion des comptes n'est pas encore disponible : connexion "
    "impossible.",
    "login.signed_in_as": "Connecté : **{user}** ({role})",
    "logout.button": "Se déconnecter",
    "logout.done": "Vous êtes déconnecté.",
    # --- overview ------------------------------------------------------------------------
    "overview.title": "Vue d'ensemble",
    "overview.loaded": "Données chargées",
    "overview.table": "Table",
    "overview.rows": "Lignes",
    "overview.last_import": "Dernier import",
    "overview.never": "jamais",
    "overview.no_data": "L'entrepôt est vide : importez des fichiers depuis la page Imports "
    "ou construisez la démonstration avec « hygie demo ».",
    "overview.dup_rate": "Taux de doublons",
    "overview.dup_rate_help": "Part des dossiers patients actifs qui ont un doublon probable "
    "(cible ≤ 1 %).",
    "overview.dup_target": "Cible ≤ {target} %",
    "overview.pending_pairs": "Paires à examiner",
    "overview.unsigned": "Documents non signés",
    "overview.ehr8": "Heures DPI / 8 h programmées",
    "overview.after_hours": "Part hors horaires",
    "overview.automation": "Heures récupérables / mois",
    "overview.automation_help": "Heures qu'une automatisation des {n} premiers postes de "
    "temps rendrait chaque mois (part automatisable {share} %).",
    "overview.see": "Détails",
    "overview.trend": "Tendance",
    "overview.no_match_run": "Aucune détection de doublons n'a encore été lancée.",
    "overview.no_timesinks": "Indicateurs de temps documentaire non calculés.",
    # --- table names ---------------------------------------------------------------------
    "table.patients": "Patients",
    "table.documents": "Documents",
    "table.audit_events": "Traces d'audit DPI",
    "table.staff": "Personnels",
    "table.schedules": "Plannings",
}

MESSAGES: dict[str, dict[str, str]] = {"fr": FR}


def t(key: str, **values: object) -> str:
    """The UI text for ``key`` in the configured language, formatted with ``values``.

    An unknown id returns the id itself so that a missing string is visible, not fatal.
    """
    lang = os.environ.get("HYGIE_LANG", "fr")
    table = MESSAGES.get(lang, FR)
    text = table.get(key) or FR.get(key) or key
    return text.format(**values) if values else text
