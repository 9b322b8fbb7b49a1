"""Documentation time sinks from EHR audit logs (docs/TIMESINKS.md; Sinsky et al. 2020).

Every figure is a :class:`TimeFigure`: ``frame`` (a DataFrame), ``label`` (French, states the
idle threshold and the after-hours rule) and ``settings``. Query functions take
``settings=None`` (keep the latest precomputation's settings, else the defaults) and
``actor`` (optional for aggregates, which need ``VIEW_AGGREGATES`` that every role holds;
required for the document-level rows of ``document_time``: ``VIEW_PATIENT_DATA``, logged as a
view). The first call after new data or other settings
rebuilds the precomputed ``ts_*`` tables (``precompute``); later calls read small aggregates.

Dashboard entry points::

    summary(con)                                   headline figures
    clinician_measures(con, period="month")        per clinician: minutes, *_time8, peers
    peer_stats(con, period="month")                p25/median/p75/p90 per role and service
    group_measures(con, by="service"|"role")       per group and period
    period_measures(con, period="week")            trend of the whole hospital
    document_type_measures(con, period="month")    documentation minutes per type
    document_type_time(con)                        volume × median time per type
    document_time(con)                             per document (patient-level)
    signature_delay(con, by="document_type")       creation → signature, same-day rate
    unsigned_backlog(con, by="service"|"author_id"|"document_type")
    time_sink_ranking(con, by="document_type"|"activity"|"service", automation_share=0.25)
    activity_heatmap(con)                          minutes by ISO weekday × local hour
    sessions(con, user_id=...)
"""

from analytics.timesinks._common import TimeFigure
from analytics.timesinks.documents import (
    BACKLOG_BUCKETS,
    document_time,
    document_type_time,
    signature_delay,
    unsigned_backlog,
)
from analytics.timesinks.heatmap import activity_heatmap
from analytics.timesinks.labels import (
    PURPOSE,
    coverage_label,
    period_label,
    role_label,
    settings_label,
)
from analytics.timesinks.measures import (
    EXTRA_MEASURES,
    MEASURES,
    MIN_CLINICIANS,
    clinician_measures,
    document_type_measures,
    group_measures,
    peer_stats,
    period_measures,
)
from analytics.timesinks.overview import EXPORT_BY, USER_COLUMNS, export_table, sessions, summary
from analytics.timesinks.precompute import (
    PrecomputeReport,
    current_settings,
    demo_step,
    ensure_precomputed,
    precompute,
)
from analytics.timesinks.ranking import RANK_BY, time_sink_ranking
from analytics.timesinks.settings import (
    ACTIVITIES,
    DEFAULT_SETTINGS,
    HOLIDAY_CALENDARS,
    TimeSinkSettings,
    holiday_calendar,
)

__all__ = [
    "ACTIVITIES",
    "BACKLOG_BUCKETS",
    "DEFAULT_SETTINGS",
    "EXTRA_MEASURES",
    "HOLIDAY_CALENDARS",
    "EXPORT_BY",
    "MEASURES",
    "MIN_CLINICIANS",
    "PURPOSE",
    "RANK_BY",
    "USER_COLUMNS",
    "PrecomputeReport",
    "TimeFigure",
    "TimeSinkSettings",
    "activity_heatmap",
    "clinician_measures",
    "coverage_label",
    "current_settings",
    "demo_step",
    "document_time",
    "document_type_measures",
    "document_type_time",
    "ensure_precomputed",
    "export_table",
    "group_measures",
    "holiday_calendar",
    "peer_stats",
    "period_label",
    "period_measures",
    "precompute",
    "role_label",
    "sessions",
    "settings_label",
    "signature_delay",
    "summary",
    "time_sink_ranking",
    "unsigned_backlog",
]
