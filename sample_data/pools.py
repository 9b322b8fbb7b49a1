"""Static vocabularies of the fictional hospital: names, places, services, document types.

Names come from Faker's fr_FR person provider (static lists, no randomness here) plus a few
forms that matching must survive (apostrophes, particles, compound names). Every value must be
encodable in Windows-1252 because the sample files are written in that encoding.
"""

from __future__ import annotations

from faker.providers.person.fr_FR import Provider as _PersonProvider


def _upper_unique(names: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name.upper(), None)
    return list(seen)


#: Birth names, most frequent first (Faker's list is roughly ordered by frequency).
LAST_NAMES: list[str] = _upper_unique(
    list(_PersonProvider.last_names)
    + [
        "N'DIAYE", "D'ALMEIDA", "D'ARTAGNAN", "DE LA FONTAINE", "DU BOIS", "LE BIHAN",
        "LE CORRE", "LA ROCHE", "DES JARDINS", "SAINT-MARTIN", "MARTIN-DUBOIS",
        "LEFÈVRE", "GUÉRIN", "BRÉMOND", "HÉNAFF", "KÉRANGAL", "L'HOSTIS", "N'GUESSAN",
    ]
)

FIRST_NAMES_MALE: list[str] = _upper_unique(
    list(_PersonProvider.first_names_male)
    + ["JEAN-PIERRE", "JEAN-LUC", "JEAN-FRANÇOIS", "PIERRE-YVES", "LOÏC", "GAËL", "YANNICK"]
)
FIRST_NAMES_FEMALE: list[str] = _upper_unique(
    list(_PersonProvider.first_names_female)
    + ["MARIE-CLAIRE", "ANNE-SOPHIE", "MARIE-HÉLÈNE", "MARIE-NOËLLE", "MAËLLE", "NOLWENN"]
)

#: Particles that may be glued, dropped or moved in a birth name.
PARTICLES: tuple[str, ...] = ("DE LA ", "DES ", "DU ", "DE ", "DA ", "DOS ", "LE ", "LA ", "D'", "L'")

#: Where the hospital's patients live (Ille-et-Vilaine): (postcode, city).
LOCAL_CITIES: list[tuple[str, str]] = [
    ("35000", "RENNES"), ("35200", "RENNES"), ("35700", "RENNES"), ("35510", "CESSON-SÉVIGNÉ"),
    ("35400", "SAINT-MALO"), ("35500", "VITRÉ"), ("35300", "FOUGÈRES"), ("35170", "BRUZ"),
    ("35830", "BETTON"), ("35600", "REDON"), ("35160", "MONTFORT-SUR-MEU"), ("35800", "DINARD"),
    ("35270", "COMBOURG"), ("35150", "JANZÉ"), ("35740", "PACÉ"), ("35135", "CHANTEPIE"),
    ("35760", "SAINT-GRÉGOIRE"), ("35340", "LIFFRÉ"), ("35580", "GUICHEN"),
]

#: Birth places as INSEE (COG) codes: mostly local, big cities, Corsica, and abroad (99xxx).
BIRTH_PLACES: list[str] = [
    "35238", "35238", "35238", "35288", "35360", "35115", "35236", "35047", "35051",
    "22278", "29019", "29232", "56260", "44109", "49007", "53130", "14118", "76540",
    "75114", "75115", "75112", "75120", "69383", "13205", "31555", "33063", "59350",
    "67482", "34172", "06088", "2A004", "2B033",
    "99350", "99352", "99351", "99139", "99127", "99134", "99341",
]

MOBILE_PREFIXES: tuple[str, ...] = ("06", "07")
LANDLINE_PREFIX = "02"
EMAIL_DOMAINS: tuple[str, ...] = (
    "example.fr", "exemple.fr", "mail.example.com", "courriel.example.org",
)

#: Services of the fictional hospital, with a short code used in workstation names.
SERVICES: list[tuple[str, str]] = [
    ("Médecine interne", "MIN"), ("Cardiologie", "CAR"), ("Urgences", "URG"),
    ("Pédiatrie", "PED"), ("Chirurgie viscérale", "CHI"), ("Gériatrie", "GER"),
    ("Radiologie", "RAD"), ("Maternité", "MAT"), ("Pneumologie", "PNE"), ("Neurologie", "NEU"),
]

#: How much after-hours documentation each service does (relative; médecine interne is high).
AFTER_HOURS_WEIGHT: dict[str, float] = {
    "Médecine interne": 2.2, "Cardiologie": 1.3, "Urgences": 0.2, "Pédiatrie": 0.8,
    "Chirurgie viscérale": 1.0, "Gériatrie": 1.8, "Radiologie": 0.5, "Maternité": 0.5,
    "Pneumologie": 1.0, "Neurologie": 1.0,
}

#: Document types (French labels, LOINC-like) written by each role.
DOC_TYPES_BY_ROLE: dict[str, list[tuple[str, float]]] = {
    "physician": [
        ("Compte rendu d'hospitalisation", 0.18), ("Lettre de liaison", 0.14),
        ("Observation médicale", 0.26), ("Compte rendu de consultation", 0.2),
        ("Ordonnance", 0.22),
    ],
    "resident": [
        ("Observation médicale", 0.45), ("Compte rendu d'hospitalisation", 0.2),
        ("Lettre de liaison", 0.15), ("Ordonnance", 0.2),
    ],
    "nurse": [("Transmissions infirmières", 0.8), ("Observation médicale", 0.2)],
    "midwife": [("Compte rendu d'accouchement", 0.5), ("Observation médicale", 0.5)],
    "secretary": [("Lettre de liaison", 0.6), ("Compte rendu de consultation", 0.4)],
}

#: Service-specific document types that replace a physician's consultation report.
SERVICE_DOC_TYPES: dict[str, str] = {
    "Chirurgie viscérale": "Compte rendu opératoire",
    "Radiologie": "Compte rendu d'imagerie",
}

#: Role mix of a service's team (per 10 staff) and which roles write notes at night.
ROLE_MIX: list[tuple[str, float]] = [
    ("physician", 0.25), ("resident", 0.15), ("nurse", 0.4), ("secretary", 0.15), ("midwife", 0.05),
]

MOTIFS: list[str] = [
    "douleur thoracique", "dyspnée d'effort", "chute à domicile", "fièvre persistante",
    "altération de l’état général", "douleur abdominale", "malaise avec perte de connaissance",
    "décompensation cardiaque", "pneumopathie", "bilan de céphalées", "syndrome confusionnel",
    "surveillance post-opératoire", "accouchement à terme", "bronchiolite",
]
ANTECEDENTS: list[str] = [
    "HTA", "diabète de type 2", "fibrillation atriale", "BPCO", "insuffisance rénale chronique",
    "cholécystectomie", "AVC ischémique", "asthme", "dyslipidémie", "hypothyroïdie",
    "cardiopathie ischémique", "aucun antécédent notable", "œdème des membres inférieurs",
]
TREATMENTS: list[str] = [
    "metformine 1000 mg x2/j", "ramipril 5 mg/j", "apixaban 5 mg x2/j", "atorvastatine 20 mg/j",
    "furosémide 40 mg/j", "lévothyroxine 75 µg/j", "paracétamol 1 g x3/j si douleur",
    "bisoprolol 2,5 mg/j", "salbutamol à la demande", "amoxicilline 1 g x3/j pendant 7 jours",
]
CONCLUSIONS: list[str] = [
    "évolution favorable, retour à domicile", "surveillance clinique et biologique",
    "avis spécialisé demandé", "adaptation du traitement", "transfert en soins de suite",
    "consultation de contrôle dans un mois", "examen clinique rassurant",
]
