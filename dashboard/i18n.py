"""Every user-facing string of the dashboard, in one place.

Pages never hold literal UI text: they call :func:`t` with a message id. French is the only
language for now; an English table can be added under ``MESSAGES["en"]`` with the same ids
and chosen with ``HYGIE_LANG=en``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from analytics.messages import coded, render, translate
from analytics.messages_fr import FRENCH as ENGINE_ERRORS

__all__ = ["ENGINE_ERRORS", "MESSAGES", "error_text", "fr_number", "job_label", "message_text", "result_error_text", "t"]

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
    "denied.page": "Votre rôle ({role}) ne donne pas accès à cette fonction.",
    "empty.table": "Aucune donnée pour l'instant.",
    "paging.label": "Page",
    "paging.caption": "Lignes {first}–{last} sur {total}",
    # --- roles ---------------------------------------------------------------------------
    "role.admin": "administrateur",
    "role.manager": "responsable",
    "role.analyst": "analyste",
    "role.viewer": "lecteur",
    "role.identitovigilance": "identitovigilance",
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
    "login.signed_in_as": "Connecté : **{user}** ({role})",
    "logout.button": "Se déconnecter",
    "logout.done": "Vous êtes déconnecté.",
    "login.signing_in": "Connexion en cours…",
    "download.refused": "Téléchargement refusé : votre session a pris fin ou vos droits ont changé. "
    "Rechargez la page.",
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
    "overview.ehr8": "Temps DPI / 8 h programmées",
    "overview.after_hours": "Part hors horaires",
    "overview.automation": "Heures récupérables / mois",
    "overview.automation_help": "Heures par mois qu'une automatisation (formulaire pré-rempli, "
    "modèle, routage) rendrait sur l'ensemble des types de documents, avec une part "
    "automatisable de {share} % (réglable dans Temps documentaire).",
    "overview.pending_help": "Paires de la dernière détection pas encore tranchées.",
    "overview.unsigned_help": "Documents créés et pas encore signés.",
    "overview.unsigned_old": "dont {n} de plus de 2 jours",
    "overview.ehr8_help": "Médiane, par clinicien, des heures actives dans le DPI pour 8 heures "
    "de temps patient programmé (EHR-Time8) ; courbe : tendance hebdomadaire.",
    "overview.see_duplicates": "Comprendre les doublons",
    "overview.see_queue": "Examiner les paires",
    "overview.see_backlog": "Voir les non-signés",
    "overview.see_time": "Détail du temps DPI",
    "overview.see_when": "Quand le travail déborde",
    "overview.see_ranking": "Postes de temps à automatiser",
    "overview.see": "Détails",
    "overview.trend": "Tendance",
    "overview.trend.run": "Par détection des doublons, du {first} au {last} (en {unit}).",
    "overview.trend.week": "Par semaine, du {first} au {last} (en {unit}).",
    "overview.unit.pairs": "paires",
    "overview.no_match_run": "Aucune détection de doublons n'a encore été lancée.",
    "overview.no_timesinks": "Indicateurs de temps documentaire non calculés.",
    "overview.report": "Rapport mensuel",
    "overview.report_help": "Le rapport pour la direction et la cellule d'identitovigilance : taux de doublons, "
    "paires examinées, fusions et leurs messages, qualité des imports, temps documentaire, documents non signés. "
    "PDF en français, pseudonymisé, petits effectifs masqués. Le téléchargement est tracé.",
    "overview.report_month": "Mois",
    "overview.report_download": "Télécharger le rapport (PDF)",
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
    "ts.apply_note": "Un nouveau seuil ou de nouveaux horaires recalculent toutes les tables de "
    "temps (de l'ordre de 15 s pour 10 millions de traces) ; la part automatisable, non.",
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
    "ts.unknown": "(non renseigné)",
    "ts.by.document_type": "Type de document",
    "ts.by.activity": "Activité",
    "ts.by.service": "Service",
    "ts.by.author_id": "Auteur",
    "ts.chart.hours_by": "Heures actives par {by}",
    "ts.chart.ranking": "Classement des postes de temps et gain d'une automatisation",
    "ts.chart.heatmap": "Heures actives par heure et jour de la semaine",
    "ts.heatmap_note": "Le temps actif compte dans l'heure où il s'écoule (heure de Paris) ; au "
    "passage à l'heure d'hiver, les deux heures de 2 h à 3 h s'additionnent.",
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
    "ts.holidays": "Jours fériés",
    "ts.holidays_help": "Calendrier des jours fériés de la règle horaire : national, ou régional "
    "(Alsace-Moselle : Vendredi saint et 26 décembre ; départements d'outre-mer).",
    "ts.holidays.FR": "France (national)",
    "ts.holidays.57": "Moselle (57)",
    "ts.holidays.67": "Bas-Rhin (67)",
    "ts.holidays.68": "Haut-Rhin (68)",
    "ts.holidays.6AE": "Alsace (67, 68)",
    "ts.holidays.971": "Guadeloupe (971)",
    "ts.holidays.972": "Martinique (972)",
    "ts.holidays.973": "Guyane (973)",
    "ts.holidays.974": "La Réunion (974)",
    "ts.holidays.976": "Mayotte (976)",
    "ts.population": "Population",
    "ts.population_help": "Les mesures sont définies pour les médecins (Sinsky et al., 2020) ; "
    "les autres rôles sont indicatifs.",
    "ts.population.physician": "Médecins",
    "ts.population.resident": "Internes",
    "ts.population.nurse": "Infirmiers",
    "ts.population.midwife": "Sages-femmes",
    "ts.population.secretary": "Secrétaires",
    "ts.population.all": "Tous",
    "ts.population_caption": "Population : {population} · {coverage}",
    "ts.hours_per_8h": "{hours} h / 8 h",
    "ts.prescription_time8": "Prescription-Time8 (prescriptions, ordonnances)",
    "ts.purpose": "Finalité : organiser le travail et choisir quoi automatiser (documents, "
    "formulaires, services, heures), pas évaluer les personnes. Chiffres par service, métier et "
    "type de document ; aucun groupe de moins de 5 cliniciens.",
    "ts.masked_groups": "Groupes de moins de {n} cliniciens masqués.",
    "ts.individual": "Chiffres individuels",
    "ts.individual_denied": "Les chiffres par clinicien demandent une autorisation donnée "
    "explicitement (rôle administrateur) ; ils ne servent pas à évaluer les personnes.",
    "ts.individual_reason": "Motif de consultation des chiffres individuels",
    "ts.individual_help": "Le motif est enregistré dans le journal des accès avec la consultation.",
    "ts.individual_reason_needed": "Indiquez un motif pour afficher les chiffres par clinicien.",
    "ts.hours_saved_evidence": "Heures récupérables / mois (mesurées)",
    "ts.hours_saved_evidence_help": "Temps mesuré sur les passages ressaisis (double saisie) et sur "
    "les documents en double, par mois ; vide tant que l'analyse des documents n'a pas tourné.",
    # --- cleanup jobs --------------------------------------------------------------------
    "jobs.pick": "Travail de nettoyage",
    "jobs.doc": "Ce que fait ce travail",
    "jobs.params": "**Paramètres**",
    "jobs.no_params": "Ce travail n'a pas de paramètre.",
    "jobs.param.choose": "Choisissez une ou plusieurs valeurs",
    "data.upload_button": "Choisir un fichier",
    "jobs.param.default": "Par défaut",
    "jobs.param.previous_month": "Le mois précédent",
    "jobs.preview": "Prévisualiser",
    "jobs.previewing": "Calcul de l'aperçu (aucune donnée n'est modifiée)…",
    "jobs.previewing_job": "Calcul de l'aperçu de « {job} » (aucune donnée n'est modifiée)…",
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
    "jobs.schedule_add": "Planifier un travail",
    "jobs.cron_help": "Expression cron à 5 champs, heure de Paris : « 0 2 * * * » = chaque nuit à 2 h.",
    "jobs.schedule_apply": "Appliquer automatiquement (sinon : aperçu seulement)",
    "jobs.schedule_submit": "Planifier",
    "jobs.scheduled": "Planification {id} enregistrée.",
    "jobs.schedule_remove_pick": "Planification à supprimer",
    "jobs.schedule_remove": "Supprimer",
    "jobs.unscheduled": "Planification {id} supprimée.",
    "jobs.col.schedule": "Planification",
    "jobs.col.cron": "Quand (cron)",
    "jobs.col.apply": "Applique",
    "jobs.col.enabled": "Active",
    "jobs.col.last_run": "Dernière exécution",
    "jobs.col.next_run": "Prochaine exécution",
    "jobs.status.running": "en cours",
    "jobs.status.succeeded": "réussi",
    "jobs.status.failed": "échoué",
    "jobs.status.interrupted": "interrompu",
    "jobs.status.undone": "annulé",
    "jobs.status.previewed": "aperçu calculé",
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
    "jobs.job_option": "{title} ({name})",
    "jobs.notes": "Notes de l'aperçu",
    "jobs.op.update": "modification",
    "jobs.op.insert": "ajout",
    "jobs.op.delete": "suppression",
    "jobs.queued": "En attente du service des travaux…",
    "jobs.applying_job": "Application de « {job} » en cours…",
    "jobs.undoing_run": "Annulation de l'exécution {run} en cours…",
    "jobs.progress_wait": "Préparation…",
    "jobs.no_worker": "Le service des travaux ne répond pas : la demande attend son redémarrage.",
    "jobs.leave_ok": "Vous pouvez changer de page : le travail continue sur le serveur et son résultat "
    "s'affichera ici à votre retour.",
    "jobs.busy": "Un travail lancé depuis cette session est en cours : attendez sa fin.",
    "jobs.already_applied": "« {job} » était déjà appliqué (exécution {run}) : rien de plus n'a été fait.",
    "jobs.failed": "Échec, rien n'a été modifié : {message}",
    "jobs.undo_label": "Annulation de « {job} »",
    "jobs.undo_messages": "{n} message(s) de compensation écrits pour les autres logiciels "
    "(voir « Messages envoyés aux autres logiciels »).",
    "jobs.messages": "Messages envoyés aux autres logiciels",
    "jobs.messages_help": "Chaque fusion, défusion et annulation écrit ses messages HL7 (ADT) et FHIR "
    "dans son dossier de sortie. Sans adresse de réception configurée, le fichier est la livraison ; "
    "sinon les messages en attente partent vers le serveur MLLP ou FHIR et sa réponse est conservée. "
    "Une annulation envoie ses propres messages de compensation.",
    "jobs.no_messages": "Aucun message : aucune fusion, défusion ou annulation n'en a écrit.",
    "jobs.messages_pending": "{n} message(s) en attente d'envoi.",
    "jobs.messages_send": "Envoyer les messages en attente",
    "jobs.sending": "Envoi des messages en attente…",
    "jobs.messages_sent": "Envoi terminé : {accepted} accepté(s), {refused} refusé(s), "
    "{unreachable} destinataire(s) sans réponse.",
    "jobs.col.what": "Exécution de",
    "jobs.col.messages": "Messages",
    "jobs.col.file_only": "Fichiers seulement",
    "jobs.col.pending": "En attente",
    "jobs.col.sent": "Envoyés",
    "jobs.col.refused": "Refusés",
    "jobs.col.file": "Fichier",
    "jobs.col.channel": "Canal",
    "jobs.col.attempts": "Tentatives",
    "jobs.col.code": "Réponse",
    "jobs.col.detail": "Détail",
    "jobs.msg_status.file": "fichier seulement",
    "jobs.msg_status.pending": "en attente",
    "jobs.msg_status.sent": "envoyé",
    "jobs.msg_status.refused": "refusé",
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
    "exports.clinician_purpose": "Temps par soignant : données individuelles sur le personnel, pour organiser le "
    "travail et choisir quoi automatiser, jamais pour évaluer une personne. L'export est tracé avec sa raison.",
    "exports.reason": "Raison de cet export (obligatoire)",
    # --- data / imports --------------------------------------------------------------------
    "data.import": "Importer un fichier",
    "data.table": "Table",
    "data.source": "Source",
    "data.source_help": "Nom du système d'origine (les clés patients sont uniques par source).",
    "data.how": "Fichier",
    "data.how.upload": "Téléverser depuis mon poste",
    "data.how.server": "Dossier d'import du serveur",
    "data.file": "Fichier CSV, Parquet ou FHIR NDJSON (au plus {mb} Mo)",
    "data.server_file": "Fichier du dossier {folder}",
    "data.run_import": "Importer",
    "data.importing": "Import en cours…",
    "data.pick_file": "Choisissez un fichier à importer.",
    "data.bad_path": "Ce fichier n'est pas dans le dossier d'import du serveur.",
    "data.too_big": "Fichier trop volumineux : {mb} Mo au plus.",
    "data.bad_type": "Type de fichier refusé : seuls {types} sont acceptés.",
    "data.refused": "Fichier refusé, rien n'a été chargé : {message}",
    "data.refused_no_counts": "Le fichier n'a pas été lu dans l'entrepôt : aucune ligne n'est comptée. "
    "Corrigez le défaut signalé puis importez-le de nouveau.",
    "data.report_title": "**Rapport de validation** — {table}, fichier « {file} »",
    "data.rows_in_file": "Lignes du fichier",
    "data.inserted": "Ajoutées",
    "data.updated": "Mises à jour",
    "data.skipped": "Écartées",
    "data.findings": "Anomalies",
    "data.detected": "Format détecté : {format} · encodage : {encoding} · séparateur : « {delimiter} »",
    "data.loaded": "Import terminé.",
    "data.imports": "Ce qui est chargé, et quand",
    "data.findings_title": "Anomalies d'un import",
    "data.pick_import": "Import",
    "data.status.running": "en cours",
    "data.status.loaded": "chargé",
    "data.status.refused": "refusé",
    "data.status.interrupted": "interrompu",
    "data.no_file": "Choisissez un fichier",
    "data.col.when": "Date",
    "data.col.file": "Fichier",
    "data.col.format": "Format",
    "data.col.encoding": "Encodage",
    "data.col.status": "Statut",
    "data.col.actor": "Par",
    "data.col.message": "Message",
    "data.col.line": "Ligne",
    "data.col.column": "Colonne",
    "data.col.key": "Enregistrement",
    "data.col.raw": "Valeur lue",
    "data.col.problem": "Problème",
    # --- admin ---------------------------------------------------------------------------
    "admin.tab.users": "Comptes et rôles",
    "admin.tab.log": "Journal des accès",
    "admin.tab.settings": "Réglages",
    "admin.col.username": "Identifiant",
    "admin.col.name": "Nom affiché",
    "admin.col.role": "Rôle",
    "admin.col.active": "Actif",
    "admin.col.demo": "Démo",
    "admin.col.password": "Mot de passe local",
    "admin.col.failures": "Échecs",
    "admin.col.locked": "Verrouillé jusqu'à",
    "admin.col.created": "Créé le",
    "admin.col.created_by": "Par",
    "admin.col.last_login": "Dernière connexion",
    "admin.col.when": "Date",
    "admin.col.via": "Canal",
    "admin.col.action": "Action",
    "admin.col.object": "Objet",
    "admin.col.rows": "Lignes",
    "admin.col.detail": "Détail",
    "admin.col.key": "Clé",
    "admin.col.value": "Valeur",
    "admin.create": "**Nouveau compte**",
    "admin.create_submit": "Créer le compte",
    "admin.password_help": "Au moins 12 caractères de plusieurs types ; jamais stocké en clair.",
    "admin.created": "Compte « {user} » créé.",
    "admin.change": "**Modifier un compte**",
    "admin.action": "Action",
    "admin.action.role": "Changer le rôle",
    "admin.action.password": "Nouveau mot de passe",
    "admin.action.unlock": "Déverrouiller",
    "admin.action.deactivate": "Désactiver",
    "admin.new_password": "Nouveau mot de passe",
    "admin.change_submit": "Appliquer",
    "admin.changed": "Compte « {user} » modifié.",
    "admin.chain_ok": "Journal intègre : la chaîne d'empreintes est vérifiée.",
    "admin.chain_broken": "Journal altéré : la chaîne d'empreintes est rompue à la ligne {row}.",
    "admin.filter_user": "Utilisateur",
    "admin.filter_action": "Action",
    "admin.filter_since": "Depuis le",
    "admin.log_readonly": "Le journal est en lecture seule : aucune ligne ne peut être modifiée "
    "ou supprimée depuis Hygie.",
    "admin.no_settings": "Aucun réglage enregistré : les valeurs par défaut s'appliquent.",
    "admin.settings_help": "Les réglages se modifient avec la ligne de commande (hygie) ; les "
    "variables d'environnement HYGIE_* l'emportent.",
    "admin.four_eyes": "Double validation des fusions d'identités",
    "admin.four_eyes_help": "Activée, un avis « Même personne » ne compte qu'une fois confirmé par un "
    "second relecteur (un autre compte) : aucune fusion ne l'utilise avant. Le changement est tracé "
    "dans le journal des accès.",
    "admin.four_eyes_on": "Double validation activée : chaque « Même personne » attend un second relecteur.",
    "admin.four_eyes_off": "Double validation désactivée : un seul avis « Même personne » suffit.",
    # --- duplicates ----------------------------------------------------------------------
    "dup.tab.queue": "File de revue",
    "dup.tab.search": "Rechercher avant de créer",
    "dup.tab.documents": "Documents en double",
    "dup.pending": "Paires à examiner",
    "dup.decided_session": "Décisions (cette session)",
    "dup.skipped": "Laissées en suspens",
    "dup.queue_empty": "Aucune paire à examiner : la file est vide ou la détection n'a pas "
    "encore été lancée (« hygie duplicates find »).",
    "dup.run_detection": "Lancer la détection des doublons",
    "dup.running": "Détection en cours…",
    "dup.ran": "{pairs} paires candidates : {matches} même personne selon le score, dont {held} à confirmer "
    "(fusion automatique exclue) ; {reviews} autres à examiner.",
    "dup.score_range": "Score",
    "dup.status_filter": "Statut d'identité",
    "dup.service_filter": "Service",
    "dup.age_filter": "Dossier le plus récent",
    "dup.age.any": "Toute date",
    "dup.age.days": "Créé depuis {days} jours",
    "dup.sort.newest": "Dossier le plus récent",
    "dup.filter_empty": "Aucune paire ne correspond à ces filtres.",
    "dup.service": "Service",
    "dup.newest": "Dossier le plus récent",
    "dup.all": "Tous",
    "dup.sort": "Trier par",
    "dup.sort.score_desc": "Score décroissant",
    "dup.sort.score_asc": "Score croissant",
    "dup.sort.name": "Nom de naissance",
    "dup.score": "Score",
    "dup.id_1": "IPP 1",
    "dup.name_1": "Nom 1",
    "dup.first_1": "Prénoms 1",
    "dup.birth_1": "Naissance 1",
    "dup.id_2": "IPP 2",
    "dup.name_2": "Nom 2",
    "dup.first_2": "Prénoms 2",
    "dup.birth_2": "Naissance 2",
    "dup.rule": "Règle",
    # Why a pair was held back from (or forced to) a decision: analytics.identity.decide rules.
    "dup.rule.twins": "Jumeaux possibles (prénoms différents, même foyer)",
    "dup.rule.ins_conflict": "INS vérifiés différents",
    "dup.rule.reviewed same": "Déjà jugée : même personne",
    "dup.rule.reviewed not_same": "Déjà jugée : personnes différentes",
    "dup.compare": "Comparaison : {a} ↔ {b}",
    "dup.field": "Trait",
    "dup.left": "Dossier 1",
    "dup.right": "Dossier 2",
    "dup.level": "Concordance",
    "dup.weight": "Poids",
    "dup.differs": "Diffère",
    "dup.differs_help": "Les deux dossiers portent des valeurs différentes pour ce trait.",
    "dup.field.birth_name": "Nom de naissance",
    "dup.field.first_names": "Prénoms",
    "dup.field.first_name": "Prénoms",
    "dup.field.birth_date": "Date de naissance",
    "dup.field.sex": "Sexe",
    "dup.field.birth_place": "Lieu de naissance",
    "dup.field.ins": "INS",
    "dup.field.phone": "Téléphone",
    "dup.field.email": "Courriel",
    "dup.field.address": "Adresse",
    "dup.level.exact": "identique",
    "dup.level.close": "proche",
    "dup.level.far": "différent",
    "dup.level.missing": "absent",
    "dup.level.cross": "nom d'usage croisé",
    "dup.level.partial": "partiel",
    "dup.level.default": "date par défaut",
    "dup.level.typo": "faute de frappe",
    "dup.level.swap": "jour/mois inversés",
    "dup.level.far_strong": "différent (fort)",
    "dup.level.postcode": "même code postal",
    "dup.level.gendered": "forme masculine/féminine",
    "dup.level.word": "un nom en plus ou en moins",
    "dup.level.particle": "particule en plus ou en moins",
    "dup.level.inverted": "noms dans un autre ordre",
    "dup.level.compound": "prénom composé réduit",
    "dup.level.other_name": "autre prénom proche (deux prénoms réels)",
    "dup.level.reordered": "prénoms dans un autre ordre",
    "dup.level.used": "prénom usuel de l'autre",
    "dup.level.first_only": "même premier prénom, autres prénoms différents",
    "dup.level.traits_differ": "INS contredit par les traits de l'autre",
    "dup.level.attr_flagged": "attribut signalé",
    "dup.field.attributes": "Attributs d'identité (RNIV)",
    "dup.rule.fictitious_identity": "Identité fictive (FICT) : décision humaine requise",
    "dup.rule.doubtful_identity": "Identité douteuse (DOUT) : décision humaine requise",
    "dup.rule.homonyms_confirmed": "Homonymes avérés (HOMA)",
    "dup.rule.ins_collision": "Même INS, noms et prénoms différents (collision)",
    "dup.level.swapped": "nom et prénom inversés",
    "dup.level.nickname": "diminutif",
    "dup.level.initial": "initiale seulement",
    "dup.level.street": "même adresse, code postal mal saisi",
    "dup.waterfall": "Contribution de chaque trait au poids (score {score})",
    "dup.decide": "**Décision** pour la paire affichée, {a} ↔ {b} — raccourcis clavier 1, 2, 3 :",
    "dup.button.same": "Même personne",
    "dup.button.not_same": "Personnes différentes",
    "dup.button.unsure": "Incertain",
    "dup.shortcut": "Raccourci : touche {key}",
    "dup.decision.same": "même personne",
    "dup.decision.not_same": "personnes différentes",
    "dup.decision.unsure": "incertain",
    "dup.recorded": "{n} décision(s) enregistrée(s) : {decision}.",
    "dup.review_denied": "Votre rôle permet de consulter la file, pas de décider.",
    "dup.search_intro": "Avant de créer un dossier, vérifiez que le patient n'existe pas déjà : la date "
    "de naissance et les premières lettres du nom suffisent, ou le nom et le prénom, ou l'INS.",
    "dup.search": "Rechercher",
    "dup.search_none": "Aucune identité proche : vous pouvez créer le dossier.",
    "dup.search_found": "{n} identité(s) proche(s) : vérifiez avant de créer un dossier.",
    "dup.kind": "Type",
    "dup.kind.exact": "Identiques",
    "dup.kind.near": "Quasi identiques",
    "dup.kind.retyped": "Ressaisis",
    "dup.no_documents": "Aucun document en double détecté.",
    "dup.reason": "Raison",
    "dup.patient": "Patient",
    "dup.keep": "Document à garder",
    "dup.doc.document_id": "Document {n}",
    "dup.doc.document_type": "Type {n}",
    "dup.doc.title": "Titre {n}",
    "dup.doc.status": "Statut {n}",
    "dup.doc.created_at": "Créé le ({n})",
    # the review queue: several selected pairs, four-eyes review
    "dup.bulk_title": "**{n} paires sélectionnées** : une même décision pour toutes, après confirmation.",
    "dup.bulk_decision": "Décision pour les paires sélectionnées",
    "dup.bulk_confirm": "Je confirme : « {decision} » pour ces {n} paires.",
    "dup.bulk_apply": "Appliquer aux {n} paires",
    "dup.four_eyes_pending": "Double validation : {n} avis « même personne » en attente d'un second "
    "relecteur avant toute fusion.",
    # search before create: the form and a readable result
    "dup.level.prefix": "début saisi",
    "dup.search_name": "Nom (de naissance ou d'usage, ou ses premières lettres)",
    "dup.search_ins": "INS (matricule)",
    "dup.search.sex_any": "—",
    "dup.search.rank": "Rang",
    "dup.search.born": "Né(e) le",
    "dup.search.used_name": "Nom utilisé",
    "dup.search.place": "Lieu de naissance",
    "dup.search.verdict": "Avis",
    "dup.search.decision.match": "Très probablement cette personne",
    "dup.search.decision.review": "À vérifier",
    "dup.search.decision.non-match": "Peu d'indices concordants",
    "dup.search.card": "{rank}. {name} {first} — né(e) le {born} — IPP {id} — score {score} ({verdict})",
    "dup.search.typed": "Saisie",
    "dup.search.record": "Dossier existant",
    "dup.search.why": "Pourquoi ces identités, dans cet ordre : chaque trait comparé comme dans la file de revue.",
    # possible collisions (one record, two people?): analytics.identity.collisions
    "dup.tab.collisions": "Collisions possibles",
    "dup.collisions_intro": "Dossiers dont les données se contredisent elles-mêmes : deux personnes dans un "
    "même dossier ? Rien n'est fusionné ni séparé automatiquement ; à vérifier par la cellule "
    "d'identitovigilance.",
    "dup.collisions_none": "Aucun dossier ne se contredit.",
    "dup.collisions_patients": "Dossiers à vérifier",
    "dup.status": "Statut",
    "dup.collisions_first": "Les {n} premiers dossiers sur {total} ; l'export les contient tous.",
    "dup.collision.record": "**{name} {first}** — né(e) le {born} — sexe {sex} — {status} — IPP {id}",
    "dup.collision.ins_sex": "L'INS {ins} est celui d'une personne de sexe {expected} ; le dossier indique {found}.",
    "dup.collision.ins_birth_year": "L'INS {ins} indique une année de naissance finissant par {expected} ; le "
    "dossier indique {found}.",
    "dup.collision.ins_birth_month": "L'INS {ins} indique une naissance en {expected} ; le dossier indique {found}.",
    "dup.collision.ins_birth_place": "L'INS {ins} indique le lieu de naissance {expected} (département, ou 99 "
    "suivi du code pays) ; le dossier indique {found}.",
    "dup.collision.overlapping_stays": "Deux séjours en même temps dans deux services : {stay_1} ({service_1}, "
    "document du {at_1}) et {stay_2} ({service_2}, document du {at_2}).",
    # the same evidence for a role without identity access (analyst): no INS, no values
    "dup.collision.record_masked": "**IPP {id}** — sexe {sex} — {status} — identité masquée pour votre rôle",
    "dup.collision.masked.ins_sex": "Le sexe encodé dans l'INS diffère de celui du dossier.",
    "dup.collision.masked.ins_birth_year": "L'année de naissance encodée dans l'INS diffère de celle du dossier.",
    "dup.collision.masked.ins_birth_month": "Le mois de naissance encodé dans l'INS diffère de celui du dossier.",
    "dup.collision.masked.ins_birth_place": "Le lieu de naissance encodé dans l'INS diffère de celui du dossier.",
    "dup.month.1": "janvier",
    "dup.month.2": "février",
    "dup.month.3": "mars",
    "dup.month.4": "avril",
    "dup.month.5": "mai",
    "dup.month.6": "juin",
    "dup.month.7": "juillet",
    "dup.month.8": "août",
    "dup.month.9": "septembre",
    "dup.month.10": "octobre",
    "dup.month.11": "novembre",
    "dup.month.12": "décembre",
    "dup.four_eyes_confirm": "{reviewer} a jugé qu'il s'agit de la même personne ; la double validation "
    "demande l'avis d'un second relecteur avant toute fusion.",
    "dup.rule.held": "Même personne selon le score, à confirmer (RNIV) : {traits}",
    "dup.rule.held_unknown": "Même personne selon le score, à confirmer (fusion automatique non établie)",
    "dup.held_explained": "Le score désigne la même personne, mais le RNIV interdit une fusion sans contrôle "
    "humain : {traits} — non identiques à la mise en forme près, ou absents (traits stricts, INS). Aucune "
    "fusion n'aura lieu sans votre « Même personne ».",
    # --- analyses run on demand by the job worker (dashboard/task_button.py) ---------------
    "task.detect.button": "Lancer la détection",
    "task.detect.help": "Recherche les doublons d'identités parmi tous les patients, comme la "
    "détection de nuit ; la file de revue est à jour quand elle se termine.",
    "task.detect.running": "Détection des doublons en cours…",
    "task.timesinks.button": "Recalculer le temps documentaire",
    "task.timesinks.help": "Recalcule les tables du temps documentaire avec les derniers réglages, "
    "si des données ont été importées depuis le dernier calcul.",
    "task.timesinks.running": "Recalcul du temps documentaire en cours…",
    "task.queued": "En attente du processus de travail…",
    "task.done": "Terminé : les résultats affichés sont à jour.",
    "task.failed": "Échec : {message}",
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

# Cleanup jobs as the engine registers them (English names, docstrings, parameter help and
# choice values): the page shows these French texts, keyed "job.<job>.<kind>.<name>" (see
# job_label). Kinds: "text" (title, doc), "param" (label), "help", "choice" ("param=value"),
# "count" (preview count).
JOB_LABELS: dict[str, dict[str, dict[str, str]]] = {
    "archive-duplicate-documents": {
        "text": {
            "title": "Archiver les documents en double",
            "doc": "Archive (statut « archivé ») les documents identiques ou quasi identiques, en gardant "
            "un document par groupe : le document signé d'abord, puis le plus complet (champs remplis, "
            "longueur du texte), puis le plus ancien. Rien n'est supprimé ; l'annulation remet le statut "
            "précédent.",
        },
        "param": {"kinds": "Types de doublons", "match_run_id": "Exécution de détection"},
        "help": {
            "kinds": "Types de doublons à archiver : identiques, quasi identiques, ressaisis.",
            "match_run_id": "Exécution de la détection des documents en double (par défaut : la dernière).",
        },
        "choice": {"kinds=exact": "Identiques", "kinds=near": "Quasi identiques",
                   "kinds=retyped": "Ressaisis (même contenu, autre type)"},
        "count": {"groups": "Groupes", "documents archived": "Documents archivés"},
    },
    "merge-identities": {
        "text": {
            "title": "Fusionner les identités en double",
            "doc": "Fusionne les identités en double, comme un serveur d'identités (EMPI) : les dossiers "
            "absorbés deviennent inactifs et reliés au dossier conservé, leurs documents et traces y sont "
            "rattachés. Les fusions sont émises en un Bundle FHIR de transaction (Patient.link "
            "replaced-by / replaces) et un message HL7 v2 ADT^A40 par dossier absorbé (PID = dossier "
            "conservé, MRG-1 = IPP du dossier absorbé).",
        },
        "param": {
            "match_run_id": "Exécution de détection",
            "include_clusters": "Inclure les groupes détectés",
            "include_reviewed": "Inclure les paires validées",
            "survivorship": "Règle du dossier conservé",
            "complete_fields": "Compléter les champs vides",
            "auto_merge": "Fusion automatique",
            "auto_merge_threshold": "Seuil de fusion automatique",
            "sending_facility": "Établissement émetteur",
            "receiving_application": "Application destinataire",
            "receiving_facility": "Établissement destinataire",
        },
        "help": {
            "match_run_id": "Exécution de la détection des doublons (par défaut : la dernière).",
            "include_clusters": "Fusionner les groupes classés « doublon » par la détection.",
            "include_reviewed": "Fusionner les paires jugées « même personne » en revue.",
            "survivorship": "Critères de choix du dossier conservé, dans l'ordre où vous les choisissez : "
            "statut d'identité, date de création (le plus ancien), identifiant patient.",
            "complete_fields": "Remplir les champs vides du dossier conservé avec ceux des dossiers absorbés.",
            "auto_merge": "Mode sans surveillance : seulement les groupes dont toutes les paires atteignent "
            "le seuil de fusion automatique et dont toutes les identités sont QUAL ou VALI.",
            "auto_merge_threshold": "Score strict exigé par la fusion automatique (0,95 au moins).",
            "sending_facility": "MSH-4 des messages ADT^A40.",
            "receiving_application": "MSH-5 des messages ADT^A40.",
            "receiving_facility": "MSH-6 des messages ADT^A40.",
        },
        "choice": {
            "survivorship=status": "Statut d'identité (le plus fiable d'abord)",
            "survivorship=created_at": "Date de création (le plus ancien)",
            "survivorship=patient_id": "Identifiant patient",
        },
        "count": {
            "groups merged": "Groupes fusionnés",
            "identities deactivated": "Identités désactivées",
            "survivors completed": "Dossiers conservés complétés",
            "documents re-pointed": "Documents rattachés",
            "audit events re-pointed": "Événements d'audit rattachés",
            "groups skipped": "Groupes ignorés",
            "pairs marked not the same": "Paires jugées différentes",
            "pairs awaiting a reviewer": "Paires « même personne » en attente d'un relecteur",
        },
    },
    "monthly-report": {
        "text": {
            "title": "Rapport mensuel (PDF)",
            "doc": "Écrit le rapport mensuel pour la direction et la cellule d'identitovigilance : taux de "
            "doublons et sa tendance face à la cible, paires examinées et en attente, collisions, fusions et "
            "annulations avec leurs messages, qualité des imports, temps documentaire (types de documents, "
            "part hors horaires, estimation d'automatisation) et documents non signés. Agrégats seulement, "
            "pseudonymisé, petits effectifs masqués. Aucune donnée n'est modifiée ; l'annulation supprime "
            "le fichier.",
        },
        "param": {"month": "Mois"},
        "help": {"month": "Mois à rapporter, au format AAAA-MM (par défaut : le mois précédent)."},
        "count": {"files": "Fichiers"},
    },
    "normalise-identities": {
        "text": {
            "title": "Normaliser les identités",
            "doc": "Met les noms en majuscules sans espaces superflus, écrit les téléphones dans un seul "
            "format et les courriels en minuscules. Les valeurs d'origine restent dans le journal des "
            "modifications ; les numéros non reconnus sont laissés tels quels et listés dans les notes "
            "pour correction.",
        },
        "param": {
            "phone_format": "Format des téléphones",
            "region": "Région par défaut des téléphones",
            "strip_accents": "Supprimer les accents",
            "only_active": "Identités actives seulement",
        },
        "help": {
            "phone_format": "Format dans lequel les téléphones sont réécrits.",
            "region": "Pays supposé pour les numéros sans indicatif (code ISO, FR par défaut).",
            "strip_accents": "Retirer aussi les accents des noms.",
            "only_active": "Ne pas toucher aux identités fusionnées (inactives).",
        },
        "choice": {
            "phone_format=E164": "International compact (+33612345678)",
            "phone_format=INTERNATIONAL": "International lisible (+33 6 12 34 56 78)",
            "phone_format=NATIONAL": "National (06 12 34 56 78)",
        },
        "count": {
            "identities changed": "Identités modifiées",
            "names": "Noms",
            "phones": "Téléphones",
            "emails": "Courriels",
            "phones not understood": "Téléphones non reconnus",
        },
    },
    "pseudonymised-extract": {
        "text": {
            "title": "Extraction pseudonymisée",
            "doc": "Écrit une extraction pour les analystes : pseudonymes HMAC-SHA-256, dates et lieux "
            "généralisés, k-anonymat imposé. Les identifiants directs sont retirés, la date de "
            "naissance devient une année (ou une tranche d'âge), le code postal un département, les "
            "horodatages un jour ou plus large ; le k-anonymat est vérifié sur la vue jointe de tous "
            "les fichiers (généraliser, puis supprimer, refuser au-delà de la part permise). Chaque "
            "extraction a son propre domaine de pseudonymes, sauf si un administrateur en nomme un. "
            "Le secret reste hors de l'entrepôt.",
        },
        "param": {
            "tables": "Tables",
            "columns": "Colonnes",
            "k": "k (taille minimale des groupes)",
            "birth_date": "Date de naissance",
            "on_small_groups": "Groupes trop petits",
            "staff": "Personnel",
            "only_active": "Identités actives seulement",
            "domain": "Domaine de pseudonymes",
        },
        "help": {
            "tables": "Tables à extraire : patients, documents, traces d'activité.",
            "columns": "Colonnes à garder, au format table.colonne séparées par des virgules "
            "(par défaut : toutes).",
            "k": "Taille minimale d'un groupe partageant les mêmes quasi-identifiants (par défaut : le "
            "réglage privacy.k ; plus bas : administrateur seulement).",
            "birth_date": "Année de naissance ou tranche d'âge de 10 ans.",
            "on_small_groups": "Sous k : refuser l'extraction, ou généraliser davantage puis supprimer "
            "les lignes restantes.",
            "staff": "Identifiants des soignants (les garder en clair : administrateur seulement).",
            "only_active": "Laisser de côté les identités fusionnées.",
            "domain": "Administrateur seulement : nom du domaine de pseudonymes (par défaut un nouveau "
            "domaine, pour que deux extractions ne puissent pas être jointes).",
        },
        "choice": {
            "tables=patients": "Patients",
            "tables=documents": "Documents",
            "tables=audit_events": "Traces d'activité",
            "birth_date=year": "Année de naissance",
            "birth_date=age_band": "Tranche d'âge de 10 ans",
            "on_small_groups=refuse": "Refuser l'extraction",
            "on_small_groups=generalise": "Généraliser puis supprimer",
            "staff=keep": "Garder",
            "staff=pseudonymise": "Pseudonymiser",
        },
        "count": {
            "patients rows": "Lignes patients",
            "patients rows suppressed": "Lignes patients supprimées",
            "documents rows": "Lignes documents",
            "documents rows suppressed": "Lignes documents supprimées",
            "audit_events rows": "Lignes d'événements d'audit",
            "audit_events rows suppressed": "Lignes d'événements d'audit supprimées",
            "files": "Fichiers",
        },
    },
    "purge-expired": {
        "text": {
            "title": "Purger ce qui a dépassé sa durée de conservation",
            "doc": "Retire les événements d'audit et les lignes du journal des accès de Hygie plus anciens que "
            "leur durée de conservation (réglages retention.audit_events_days et retention.access_log_days, "
            "365 jours par défaut ; la CNIL recommande 6 mois à 1 an pour les journaux de connexion), après "
            "les avoir archivés en Parquet lisible par le seul propriétaire. La chaîne d'empreintes du journal "
            "est ancrée à sa première ligne conservée et reste vérifiable. L'annulation remet tout.",
        },
        "param": {"tables": "Tables", "as_of": "Jour de référence"},
        "help": {
            "tables": "Tables à purger : événements d'audit, journal des accès de Hygie.",
            "as_of": "Jour à partir duquel compter la durée de conservation (par défaut : aujourd'hui).",
        },
        "choice": {"tables=audit_events": "Événements d'audit", "tables=access_log": "Journal des accès"},
        "count": {
            "audit_events rows removed": "Événements d'audit retirés",
            "access_log rows removed": "Lignes du journal des accès retirées",
            "files": "Fichiers",
        },
    },
    "route-unsigned-documents": {
        "text": {
            "title": "Relancer les documents non signés",
            "doc": "Envoie les brouillons non signés depuis plus de N jours dans la liste de travail de "
            "leur signataire (un fichier CSV par signataire). Le signataire est l'auteur s'il est encore "
            "actif, sinon le chef du service du document. Chaque envoi est une ligne de "
            "document_routing : l'annulation la retire.",
        },
        "param": {"days": "Jours sans signature", "as_of": "À la date du"},
        "help": {
            "days": "Relancer les brouillons non signés depuis plus de ce nombre de jours.",
            "as_of": "Jour de référence, au format AAAA-MM-JJ (par défaut : aujourd'hui).",
        },
        "count": {
            "documents routed": "Documents envoyés",
            "signers": "Signataires",
            "to service heads": "Vers les chefs de service",
            "not routable": "Sans destinataire",
        },
    },
    "detect-duplicates": {"text": {"title": "Détecter les identités en double (analyse)"}},
    "detect-duplicate-documents": {"text": {"title": "Détecter les documents en double (analyse)"}},
    "unmerge-identity": {
        "text": {
            "title": "Défusionner une identité",
            "doc": "Rétablit une identité fusionnée : de nouveau active, déliée, ses documents et traces "
            "rattachés de nouveau. S'appuie sur le journal de la fusion (l'état d'avant) : seul ce que "
            "cette fusion a déplacé pour cette identité revient, y compris les champs du dossier conservé "
            "complétés à partir d'elle. Refusé si l'une de ces lignes a changé depuis (annulez d'abord "
            "le changement plus récent).",
        },
        "param": {"patient_id": "Identifiant patient", "run_id": "Exécution de fusion"},
        "help": {
            "patient_id": "L'identité fusionnée (inactive) à rétablir.",
            "run_id": "Exécution de fusion (par défaut : la dernière qui l'a fusionnée).",
        },
        "count": {
            "identities restored": "Identités restaurées",
            "survivor fields restored": "Champs du dossier conservé restaurés",
            "documents pointed back": "Documents rattachés de nouveau",
            "audit events pointed back": "Événements d'audit rattachés de nouveau",
        },
    },
}

# French text of each coded engine message: analytics/messages_fr.py (the report needs them too).
FR.update({f"error.{code}": text for code, text in ENGINE_ERRORS.items()})

FR.update(
    {
        f"job.{job}.{kind}.{name}": label
        for job, kinds in JOB_LABELS.items()
        for kind, names in kinds.items()
        for name, label in names.items()
    }
)

MESSAGES: dict[str, dict[str, str]] = {"fr": FR}


def t(key: str, /, **values: object) -> str:
    """The UI text for ``key`` in the configured language, formatted with ``values``.

    An unknown id returns the id itself so that a missing string is visible, not fatal.
    """
    lang = os.environ.get("HYGIE_LANG", "fr")
    table = MESSAGES.get(lang, FR)
    text = table.get(key) or FR.get(key) or key
    return text.format(**values) if values else text


def message_text(message: str | None) -> str:
    """The French text of an English engine sentence (``analytics.messages``), read back to its
    code; a sentence the engine has not coded is shown as it is."""
    return translate(message, _template) if message else message or ""


def error_text(error: BaseException) -> str:
    """The French text of an engine error: from its code and parameters when it carries them."""
    found = coded(error)
    return render(*found, _template) if found else str(error)


def result_error_text(result: Mapping[str, Any]) -> str:
    """The French text of a failed job-queue answer (``error_code``/``error_params``, else ``error``)."""
    code = result.get("error_code")
    if isinstance(code, str) and f"error.{code}" in FR:
        return render(code, result.get("error_params") or {}, _template)
    return message_text(result.get("error") or (result.get("data") or {}).get("message") or "")


def _template(code: str) -> str | None:
    """The page's template of an engine code, in the configured language."""
    key = f"error.{code}"
    text = t(key)
    return None if text == key else text


def fr_number(value: float | None, digits: int = 2, *, sign: bool = False) -> str:
    """``value`` as a French page shows it: decimal comma (0,95; +1,25); "—" when empty."""
    if value is None or value != value:
        return "—"
    return f"{value:{'+' if sign else ''}.{digits}f}".replace(".", ",")


def job_label(job: str, kind: str, name: str) -> str:
    """The French label of a job's parameter (``kind="param"``) or preview count (``"count"``).

    The engine names them in English; a name without a French label is shown as the engine
    names it (underscores as spaces), so a new parameter is visible before it is translated.
    """
    key = f"job.{job}.{kind}.{name}"
    text = t(key)
    return name.replace("_", " ") if text == key else text
