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
    # --- charts --------------------------------------------------------------------------
    "chart.inside": "Pendant les horaires",
    "chart.after_hours": "Hors horaires",
    "chart.hours": "Heures",
    "chart.hours_per_month": "Heures / mois",
    "chart.hours_saved": "Heures récupérables / mois",
    "chart.p25": "25e centile",
    "chart.median": "Médiane",
    "chart.p75": "75e centile",
    "chart.p90": "90e centile",
    "chart.peers": "Pairs",
    "chart.minutes_per_8h": "Minutes / 8 h programmées",
    "chart.documents": "Documents",
    "chart.age_0_2d": "0–2 jours",
    "chart.age_3_7d": "3–7 jours",
    "chart.age_8_30d": "8–30 jours",
    "chart.age_over_30d": "plus de 30 jours",
    "chart.prior": "A priori",
    "chart.total_weight": "Poids total",
    "chart.weight": "Poids (log2)",
    "weekday.0": "lundi",
    "weekday.1": "mardi",
    "weekday.2": "mercredi",
    "weekday.3": "jeudi",
    "weekday.4": "vendredi",
    "weekday.5": "samedi",
    "weekday.6": "dimanche",
    # --- time sinks ----------------------------------------------------------------------
    "ts.settings": "Réglages du calcul",
    "ts.idle_threshold": "Seuil d'inactivité (secondes)",
    "ts.idle_help": "Un écart entre deux actions plus long que ce seuil clôt la session et ne "
    "compte pas. 300 s (5 min) par défaut pour des journaux d'audit au niveau action.",
    "ts.workday_start": "Début de journée (règle horaire)",
    "ts.workday_end": "Fin de journée (règle horaire)",
    "ts.automation_share": "Part automatisable",
    "ts.automation_help": "Part du temps qu'une automatisation (formulaire pré-rempli, modèle, "
    "routage) ferait gagner : une hypothèse, à ajuster.",
    "ts.apply_settings": "Appliquer les réglages",
    "ts.computing": "Calcul des indicateurs…",
    "ts.no_data": "Aucune trace d'audit exploitable : importez des traces d'audit DPI.",
    "ts.active_hours": "Heures actives dans le DPI",
    "ts.median_ehr8": "Médiane EHR-Time8",
    "ts.clinicians": "Cliniciens",
    "ts.tab.ranking": "Postes de temps",
    "ts.tab.when": "Quand",
    "ts.tab.peers": "Comparaison aux pairs",
    "ts.tab.backlog": "Non signés",
    "ts.rank_by": "Regrouper par",
    "ts.by.document_type": "Type de document",
    "ts.by.activity": "Activité",
    "ts.by.service": "Service",
    "ts.by.author_id": "Auteur",
    "ts.chart.hours_by": "Heures actives par {by}",
    "ts.chart.ranking": "Classement des postes de temps et gain d'une automatisation",
    "ts.chart.heatmap": "Heures actives par heure et jour de la semaine",
    "ts.chart.after_hours_trend": "Temps hors horaires (WOW8) et temps total (EHR-Time8)",
    "ts.chart.peers": "{who} face à ses pairs ({role}, {service})",
    "ts.chart.services": "Services comparés (dernier mois)",
    "ts.chart.backlog": "Documents non signés par ancienneté",
    "ts.period": "Période",
    "ts.period.week": "Semaine",
    "ts.period.month": "Mois",
    "ts.clinician": "Clinicien",
    "ts.measure": "Mesure",
    "ts.ehr_time8": "EHR-Time8 (temps DPI total)",
    "ts.wow8": "WOW8 (hors horaires)",
    "ts.note_time8": "Note-Time8 (documentation)",
    "ts.order_time8": "Order-Time8 (prescriptions)",
    "ts.inbox_time8": "IB-Time8 (messagerie)",
    "ts.percentile": "Position parmi ses pairs : {pct}e centile.",
    "ts.backlog_by": "Regrouper par",
    "ts.footnote": "Mesures en minutes par 8 heures de temps programmé (Sinsky et al., JAMIA "
    "2020). Hors horaires : en dehors du planning de chacun, sinon en dehors de la plage "
    "horaire en semaine, week-ends et jours fériés compris.",
    # --- cleanup jobs --------------------------------------------------------------------
    "jobs.pick": "Travail de nettoyage",
    "jobs.doc": "Ce que fait ce travail",
    "jobs.params": "**Paramètres**",
    "jobs.no_params": "Ce travail n'a pas de paramètre.",
    "jobs.preview": "Prévisualiser",
    "jobs.previewing": "Calcul de l'aperçu (aucune donnée n'est modifiée)…",
    "jobs.preview_title": "Aperçu : {count} ligne(s) seraient modifiées",
    "jobs.apply": "Appliquer…",
    "jobs.apply_denied": "Votre rôle permet de prévisualiser, pas d'appliquer.",
    "jobs.confirm_title": "Confirmer l'application",
    "jobs.confirm_text": "Appliquer « {job} » modifiera {count} ligne(s), en une seule transaction. "
    "Chaque modification est journalisée et peut être annulée.",
    "jobs.confirm": "Confirmer",
    "jobs.applying": "Application en cours…",
    "jobs.progress": "{done} / {total} modifications",
    "jobs.applied": "Terminé : {rows} ligne(s) modifiée(s)",
    "jobs.applied_flash": "« {job} » appliqué : {rows} ligne(s) modifiée(s) (exécution {run}).",
    "jobs.history": "Historique des exécutions",
    "jobs.no_history": "Aucune exécution pour l'instant.",
    "jobs.undo_pick": "Exécution à annuler",
    "jobs.undo": "Annuler cette exécution…",
    "jobs.undo_title": "Confirmer l'annulation",
    "jobs.undo_text": "Restaurer exactement les lignes modifiées par l'exécution {run} ?",
    "jobs.undoing": "Annulation en cours…",
    "jobs.undone": "Annulation terminée : {rows} ligne(s) restaurée(s).",
    "jobs.schedules": "Planifications",
    "jobs.no_schedules": "Aucune planification.",
    "jobs.col.table": "Table",
    "jobs.col.op": "Opération",
    "jobs.col.key": "Clé",
    "jobs.col.before": "Avant",
    "jobs.col.after": "Après",
    "jobs.col.run": "Exécution",
    "jobs.col.job": "Travail",
    "jobs.col.status": "Statut",
    "jobs.col.actor": "Lancé par",
    "jobs.col.started": "Début",
    "jobs.col.finished": "Fin",
    "jobs.col.rows": "Lignes modifiées",
    "jobs.col.undo_of": "Annule",
    "jobs.col.undone_by": "Annulée par",
    "jobs.col.message": "Message",
    # --- exports -------------------------------------------------------------------------
    "export.button": "Exporter",
    "export.dialect": "Format",
    "export.dialect.excel-fr": "Excel (France) : « ; » et BOM UTF-8",
    "export.dialect.standard": "Standard : « , » UTF-8",
    "export.identified": "Export nominatif (non pseudonymisé)",
    "export.identified_help": "Réservé aux administrateurs ; l'export est tracé comme nominatif.",
    "export.pseudonymised": "Identifiants pseudonymisés (HMAC-SHA-256), dates de naissance "
    "généralisées.",
    "export.download": "Télécharger le CSV ({rows} lignes)",
    "exports.intro": "Chaque table de l'entrepôt en CSV. Les données patient sont "
    "pseudonymisées par défaut et chaque téléchargement est tracé dans le journal des accès.",
    "exports.viewer": "Votre rôle permet d'exporter les tables agrégées uniquement.",
    "exports.table": "Table",
    "exports.summary": "**{rows}** lignes · colonnes : {columns}",
    "exports.aggregate": "Table agrégée : aucune donnée patient, exportée telle quelle.",
    # --- table names ---------------------------------------------------------------------
    "table.patients": "Patients",
    "table.documents": "Documents",
    "table.audit_events": "Traces d'audit DPI",
    "table.staff": "Personnels",
    "table.schedules": "Plannings",
    "table.imports": "Imports",
    "table.data_quality_findings": "Anomalies d'import",
    "table.match_runs": "Détections de doublons",
    "table.match_pairs": "Paires candidates",
    "table.match_clusters": "Groupes de doublons",
    "table.pair_reviews": "Décisions de revue",
    "table.document_duplicates": "Documents en double",
    "table.job_runs": "Exécutions de travaux",
    "table.ts_sessions": "Sessions DPI",
    "table.ts_user_day": "Temps par clinicien et jour",
    "table.ts_service_day": "Temps par service et jour",
    "table.ts_document_time": "Temps par document",
    "table.ts_runs": "Calculs de temps documentaire",
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
