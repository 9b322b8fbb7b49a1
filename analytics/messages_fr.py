"""The French text of every coded engine message (:data:`analytics.messages.ENGLISH`).

Next to the English templates rather than in ``dashboard/i18n.py`` because the engine needs
them too: the monthly report (a PDF the CLI and a job write) shows the import findings in
French. ``dashboard/i18n.py`` takes them as ``error.<code>``; a test requires one for every code.
"""

from __future__ import annotations

from analytics.messages import translate

__all__ = ["FRENCH", "french"]

FRENCH: dict[str, str] = {
    # --- jobs: outcomes and refusals ------------------------------------------------------
    "job.failed": "Le travail {job} a échoué ; tout a été annulé, rien n'est modifié (exécution {run}) : {message}",
    "job.failed_run": "{message}",
    "job.unknown": "Travail inconnu « {job} » (travaux connus : {known}).",
    "preview.stale_data": "L'aperçu {preview} n'est plus à jour : les données lues par {job} ont changé depuis ; "
                          "refaites l'aperçu.",
    "preview.stale_not_confirmed": "L'aperçu {preview} n'est pas celui qui a été confirmé ; refaites l'aperçu.",
    "preview.stale": "L'aperçu {preview} n'est plus à jour ({message}) ; refaites l'aperçu.",
    "preview.of_undo": "L'aperçu {preview} appartient à une annulation : il ne peut pas être appliqué seul.",
    "preview.unknown": "Aperçu inconnu : {preview}.",
    "change.row_changed": "{table} {key} n'a plus les valeurs de l'aperçu",
    "change.row_exists": "{table} {key} existe déjà",
    "change.count_mismatch": "{table} : {done} ligne(s) trouvée(s) pour {n} modification(s)",
    "run.unknown": "Exécution inconnue : {run}.",
    "run.interrupted": "Interrompu : le processus s'est arrêté avant la fin ; rien n'a été appliqué.",
    "worker.stopped": "Le service des travaux s'est arrêté pendant l'exécution ; l'historique la montre comme "
                      "interrompue.",
    "request.apply_incomplete": "Demande incomplète : aperçu et empreinte requis.",
    "undo.analysis": "L'exécution {run} est une analyse ({job}), pas un nettoyage : rien à annuler.",
    "undo.of_undo": "L'exécution {run} est elle-même une annulation (de {of}) : refaites plutôt un aperçu du "
                    "travail.",
    "undo.already": "L'exécution {run} a déjà été annulée par {by}.",
    "undo.not_succeeded": "L'exécution {run} n'a pas réussi (statut {status}) : rien à annuler.",
    "undo.not_undoable": "Les exécutions de {job} ne peuvent pas être annulées.",
    "undo.later_run": "Impossible d'annuler {run} : l'exécution {later} ({job}) a modifié les mêmes lignes "
                      "ensuite ; annulez-la d'abord.",
    "undo.output_modified": "Impossible d'annuler {run} : le fichier produit {path} a été modifié depuis.",
    "undo.changed_outside": "Impossible d'annuler {run} : {message} (modifié après l'exécution, hors des travaux).",
    "undo.done": "Annulation de l'exécution {run}",
    "undo.removed_files": "Annulation de l'exécution {run} ; {n} fichier(s) retiré(s)",
    "undo.sent_kept": "Annulation de l'exécution {run} ; les {n} fichier(s) déjà envoyés sont conservés",
    "undo.sent_kept_compensated": "Annulation de l'exécution {run} ; les {n} fichier(s) déjà envoyés sont "
                                  "conservés ; {m} message(s) de compensation écrits pour les systèmes "
                                  "destinataires",
    # --- access -------------------------------------------------------------------------------
    "access.denied": "Action refusée à {user} (rôle {role}) : {action}.",
    "access.aggregates_only": "Export refusé à {user} (rôle {role}) : seuls les tableaux agrégés lui sont "
                              "permis, et « {table} » contient des lignes par patient.",
    "permission.view_aggregates": "consulter les indicateurs",
    "permission.view_patient_data": "consulter des données patient",
    "permission.view_identities": "voir l'identité des patients (noms, date et lieu de naissance, INS, "
                                  "coordonnées)",
    "permission.export_pseudonymised": "exporter des données pseudonymisées",
    "permission.export_identified": "exporter des données identifiantes (non pseudonymisées)",
    "permission.review_pairs": "examiner des paires de doublons",
    "permission.job_preview": "prévisualiser des travaux de nettoyage",
    "permission.job_apply": "appliquer ou annuler des travaux de nettoyage",
    "permission.import_data": "importer des données",
    "permission.manage_users": "gérer les comptes",
    "permission.view_access_log": "consulter le journal des accès",
    "permission.change_settings": "modifier les réglages",
    "permission.view_clinician_times": "consulter les temps par soignant",
    "privacy.lower_k": "abaisser k sous le réglage privacy.k={k}",
    "privacy.choose_domain": "choisir un domaine de pseudonymes",
    "privacy.keep_staff": "garder les identifiants des soignants en clair dans une extraction",
    "export.reason_required": "{table} contient des temps par soignant : indiquez la raison de cet export "
                              "(finalité : organiser le travail, non évaluer les personnes).",
    # --- jobs: parameters ---------------------------------------------------------------------
    "param.unknown": "{job} : paramètre inconnu {name} (paramètres connus : {known}).",
    "param.not_one_of": "{job} : le paramètre {name}={value} doit valoir l'une de ces valeurs : {allowed}.",
    "param.invalid": "{job} : le paramètre {name}={value} n'est pas une valeur valide ({type}).",
    "param.required": "{job} : le paramètre {name} est obligatoire.",
    "param.kinds": "Types de doublons {value} : utilisez {allowed}, séparés par des virgules.",
    "param.survivorship": "Règle du dossier conservé {value} : utilisez une liste de {allowed}, séparés par des "
                          "virgules.",
    "param.auto_merge_threshold": "Seuil de fusion automatique {value} : il doit être compris entre 0,95 et 1.",
    "param.extract_tables": "Tables {value} : utilisez {allowed}, séparées par des virgules.",
    "param.extract_k": "k={k} : k doit valoir au moins 2.",
    "param.extract_column": "Colonne {column} : écrivez table.colonne, avec une table choisie dans « Tables ».",
    "param.extract_no_column": "La table {table} n'a pas de colonne {column}.",
    "param.route_days": "Jours sans signature {days} : la valeur doit être positive ou nulle.",
    "param.purge_tables": "Tables {value} : utilisez {allowed}, séparées par des virgules.",
    "extract.small_groups": "Extraction refusée : certaines combinaisons de {columns} ne concernent que {n} "
                            "patient(s), moins que k={k}. Choisissez « Généraliser puis supprimer », la tranche "
                            "d'âge, ou moins de colonnes.",
    "extract.refused": "Extraction refusée. {message}",
    "unmerge.no_patient": "Aucun patient {patient}.",
    "unmerge.not_merged": "Le patient {patient} n'est fusionné dans aucune autre identité.",
    "unmerge.no_merge_run": "Le patient {patient} n'a pas été fusionné par une fusion toujours en vigueur.",
    "unmerge.not_that_run": "Le patient {patient} n'a pas été fusionné par la fusion {run}, ou elle n'est plus "
                            "en vigueur.",
    "unmerge.changed": "Impossible de défusionner {patient} : {table} {key} a changé depuis la fusion {run} ; "
                       "annulez d'abord le changement plus récent.",
    "schedule.bad_cron": "Planification : « {cron} » n'est pas une expression cron valide (par exemple "
                         "« 0 2 * * * » pour chaque nuit à 2 h).",
    "schedule.no_params": "Planification : {job} ne prend pas de paramètre.",
    "schedule.unknown": "Planification inconnue : {schedule}.",
    "schedule.owner_unknown": "Le compte {user} qui a créé la planification n'existe pas dans cet entrepôt.",
    "schedule.owner_disabled": "Le compte {user} qui a créé la planification est désactivé.",
    "report.bad_month": "Rapport : le mois « {month} » n'est pas au format AAAA-MM (par exemple 2026-11).",
    "report.nothing": "Rapport : rien à présenter pour le mois {month}.",
    "retention.not_whole": "Réglage retention.{table}_days={value} : un nombre entier de jours est attendu.",
    "retention.out_of_bounds": "Réglage retention.{table}_days={days} : la durée doit être comprise entre {low} "
                               "et {high} jours.",
    # --- jobs: preview notes ------------------------------------------------------------------
    "note.phones_unchanged": "Téléphones laissés tels quels (non reconnus) : {phones}",
    "note.no_duplicate_documents": "Aucun document en double détecté pour l'instant.",
    "note.report_written": "Rapport du mois {month} : {file}",
    "note.documents_missing": "Documents absents de l'entrepôt, ignorés : {documents}",
    "note.pair_not_same": "Paire {a}/{b} non fusionnée : jugée « personnes différentes » en revue.",
    "note.pair_unknown": "Paire {a}/{b} ignorée : elle désigne un patient inconnu.",
    "note.group_not_same": "Groupe {group} ignoré : {a} et {b} ont été jugés « personnes différentes » en revue.",
    "note.group_inactive": "Groupe {group} ignoré : une identité est inactive sans avoir été fusionnée.",
    "note.group_not_qualified": "Groupe {group} écarté de la fusion automatique : toutes les identités ne sont "
                                "pas QUAL ou VALI.",
    "note.no_match_run": "Pas encore de détection des doublons : seules les paires validées en revue sont prises "
                         "en compte.",
    "note.unroutable": "Ni auteur actif ni chef de service pour : {documents}",
    "note.unmerge_from": "D'après la fusion {run} (dossier conservé {survivor})",
    "note.strict_not_filled": "{survivor} : {fields} non complété depuis {loser} ({loser_status}) : un trait strict "
                              "d'une identité {kept} ne vient que d'une identité validée (RNIV).",
    "note.retention": "{table} : conservé {days} jours, retrait de ce qui est antérieur au {day}",
    "note.access_log_purged": "Journal des accès : retrait des lignes {first} à {last}, la dernière "
                              "d'empreinte {hash}",
    "note.access_log_anchored": "Journal des accès : chaîne ancrée à la ligne {id}",
    "purge.no_anchor_row": "Purge : aucune ligne du journal des accès ne resterait pour y ancrer la chaîne.",
    # --- privacy: k-anonymity -----------------------------------------------------------------
    "kanon.refused": "Export refusé pour protéger l'anonymat : {file} n'atteint pas k={k} sur {columns}. Même en "
                     "généralisant au maximum ({tried}), {small} ligne(s) sur {total} ({share} %) restent dans "
                     "des groupes "
                     "de moins de {k} personnes, plus que les {max_share} % qu'il est permis de supprimer. "
                     "Exportez moins de colonnes ou de lignes, ou demandez un export à un administrateur.",
    "kanon.enforced": "k-anonymat appliqué : k={k}, plus petit groupe de {smallest} personnes sur la vue jointe "
                      "des fichiers",
    "kanon.generalised": "Généralisé : {step}",
    "kanon.suppressed": "{n} ligne(s) sur {total} supprimée(s) de {file} (groupes de moins de k={k} personnes)",
    "kanon.dropped_unique": "Retiré de {file} (valeur unique par ligne) : {columns}",
    "step.birth_year": "date de naissance → année",
    "step.birth_band": "date de naissance → tranche de {n} ans",
    "step.postcode": "code postal → département",
    "step.time_date": "horodatages → jour",
    "step.time_week": "horodatages → semaine",
    "step.time_month": "horodatages → mois",
    "step.time_year": "horodatages → année",
    "step.time_dropped": "horodatages retirés",
    "step.free_text_dropped": "texte libre retiré",
    "step.column_dropped": "colonne {column} retirée",
    # --- imports: value findings --------------------------------------------------------------
    "finding.not_loaded": "{message} ; ligne non chargée",
    "finding.end_before_start": "Fin avant le début",
    "finding.bad_date": "Date invalide (attendu jj/mm/aaaa ou aaaa-mm-jj)",
    "finding.birth_date_range": "Date de naissance hors de la période du 01/01/1880 à aujourd'hui",
    "finding.bad_timestamp": "Horodatage invalide (attendu jj/mm/aaaa HH:MM[:SS] ou ISO 8601)",
    "finding.bad_sex": "Code sexe inconnu (attendu M/F/U, H, 1/2, homme/femme, inconnu)",
    "finding.bad_identity_status": "Statut d'identité inconnu (attendu PROV, RECUP, VALI ou QUAL)",
    "finding.bad_activity": "Activité inconnue (attendu documentation, chart_review, orders, inbox ou other)",
    "finding.bad_doc_status": "Statut de document inconnu (attendu draft, signed, sent ou archived)",
    "finding.bad_bool": "Ni oui ni non (attendu oui/non, 1/0, true/false)",
    "finding.bad_birth_place": "Code lieu INSEE invalide (5 caractères, par exemple 75056 ou 2A004)",
    "finding.bad_postcode": "Code postal français invalide (5 chiffres)",
    "finding.bad_email": "Adresse de courriel invalide",
    "finding.ins_length": "INS mal formé : {n} caractères au lieu de 15 (NIR de 13 caractères + clé de 2 chiffres)",
    "finding.ins_not_nir": "INS mal formé : ce n'est pas un NIR/NIA (sexe, année, mois, département, commune, "
                           "ordre, clé)",
    "finding.ins_key": "INS mal formé : la clé {found} ne correspond pas à la clé attendue {expected}",
    "finding.mojibake": "Texte apparemment mal décodé (UTF-8 lu comme Windows-1252) ; valeur gardée telle quelle",
    "finding.no_attribute_code": "Aucun code d'attribut d'identité (attendu des codes comme DOUT, FICT, HOMD, HOMA)",
    "finding.unknown_attributes": "Code(s) d'attribut d'identité inconnu(s) {codes} (connus : {known}) ; valeur "
                                  "gardée telle quelle",
    "finding.ins_mismatch": "L'INS ne correspond pas à ces données du dossier : {traits} (le NIR code le sexe, "
                            "l'année et le mois de naissance, le lieu de naissance) ; valeur gardée",
    "trait.sex": "sexe",
    "trait.birth_year": "année de naissance",
    "trait.birth_month": "mois de naissance",
    "trait.birth_place": "lieu de naissance",
    # --- imports: files refused ---------------------------------------------------------------
    "import.at_line": "{file}, ligne {line} : {message}",
    "import.somewhere": "{file}, quelque part dans le fichier : {message}",
    "import.empty": "le fichier est vide (ni en-tête ni ligne)",
    "import.empty_fhir": "le fichier est vide (aucune ressource)",
    "import.no_rows": "le fichier a un en-tête mais aucune ligne de données",
    "import.required_empty": "la colonne {column} est vide (elle est obligatoire)",
    "import.repeated_key": "clé répétée {key} (déjà en ligne {first} ; {n} lignes en tout)",
    "import.header_twice": "la colonne « {column} » apparaît deux fois dans l'en-tête",
    "import.missing_column": "colonne obligatoire {column} absente (en-têtes acceptés : {accepted})",
    "import.both_map": "les colonnes « {first} » et « {second} » correspondent toutes deux à {target} ; "
                       "choisissez-en une",
    "import.undecodable_byte": "octet {byte} illisible (ni UTF-8 ni Windows-1252) ; réexportez le fichier en UTF-8",
    "import.mixed_encoding": "octets {bytes} illisibles (le reste du fichier est en UTF-8 : encodages mélangés) ; "
                             "réexportez le fichier en UTF-8",
    "import.undecodable": "octets illisibles (pas de l'UTF-8)",
    "import.ragged": "{n} champs alors que l'en-tête en a {m} (ligne irrégulière)",
    "import.unclosed_quote": "guillemet non refermé (un champ ouvre « \" » sans le refermer)",
    # --- imports: report notices --------------------------------------------------------------
    "notice.delimiter": "Séparateur détecté : {delimiter}",
    "delimiter.semicolon": "point-virgule",
    "delimiter.comma": "virgule",
    "delimiter.tab": "tabulation",
    "delimiter.pipe": "barre verticale",
    "notice.map_missing": "Correspondance {source} : aucune colonne « {column} » dans le fichier",
    "notice.unknown_columns": "{n} colonne(s) inconnue(s) ignorée(s) : {columns}",
    "notice.unknown_columns_more": "{n} colonne(s) inconnue(s) ignorée(s) : {columns} et {more} autre(s)",
    # --- duplicates: search before create, reviews --------------------------------------------
    "search.not_enough": "Pour rechercher, saisissez un INS, ou un nom et un prénom, ou une date de naissance "
                         "avec les premières lettres d'un nom ou d'un prénom.",
    "search.bad_date": "Date de naissance « {value} » invalide (attendu jj/mm/aaaa).",
    "review.four_eyes": "Double validation : {user} a déjà jugé {pair} « même personne » ; un second relecteur "
                        "doit confirmer.",
    # --- accounts ----------------------------------------------------------------------------
    "account.exists": "Un compte nommé « {user} » existe déjà.",
    "account.unknown": "Aucun compte nommé « {user} ».",
    "account.last_admin": "« {user} » est le dernier administrateur actif : nommez d'abord un autre administrateur.",
    "account.bad_role": "Rôle « {role} » inconnu (rôles : {roles}).",
    "account.bad_username": "Identifiant « {user} » : de 2 à 64 caractères parmi a-z, 0-9, « . », « _ » et « - », "
                            "commençant par une lettre ou un chiffre.",
    "password.refused": "Mot de passe refusé : {problems}.",
    "password.too_short": "au moins {n} caractères",
    "password.too_long": "au plus {n} caractères",
    "password.has_username": "il ne doit pas contenir l'identifiant",
    "password.common": "il est trop courant",
    "password.classes": "mêlez au moins 3 types de caractères : minuscules, majuscules, chiffres, autres (ou "
                        "une phrase de passe d'au moins {n} caractères)",
    "password.guessable": "il est trop facile à deviner (mots répétés ou courants, suites du clavier, dates) ; "
                          "ajoutez des mots sans rapport entre eux",
    # --- time sinks: settings -----------------------------------------------------------------
    "hours.start_after_end": "Heures de travail : le début ({start}) doit précéder la fin ({end}).",
    "hours.idle_not_whole": "Seuil d'inactivité : un nombre entier de secondes est attendu (reçu {value}).",
    "hours.idle_range": "Seuil d'inactivité : {value} s est hors de l'intervalle 1–{high} s.",
}


def french(text: str) -> str:
    """The French text of an English engine sentence; as it is if the engine has not coded it."""
    return translate(text, FRENCH.get)
