-- 005: prepared aggregates of the dashboard.
-- Reports per UTC day, category, governorate, agency and status, with the number routed with
-- high confidence (routing_status 'routed' and routing_confidence >= 0.8, the threshold of
-- spatial.postgis.dashboard.HIGH_CONFIDENCE_MIN). The planner's KPIs and weekly trend read
-- this (tens of thousands of rows) instead of scanning a million reports per click.
-- Refreshed by spatial.postgis.dashboard.refresh_aggregates: the dashboard calls it when the
-- data changed (new batch, re-routing, status updates); an ingest may call it too.
-- No personal data: counts only. Missing codes are stored as '' (never equal to a filter).

CREATE MATERIALIZED VIEW dashboard_report_days AS
SELECT
    (r.reported_at AT TIME ZONE 'UTC')::date AS day,
    r.category,
    COALESCE(r.governorate_code, '') AS governorate_code,
    COALESCE(r.agency_code, '') AS agency_code,
    r.status,
    count(*)::integer AS n_reports,
    (count(*) FILTER (WHERE r.routing_status = 'routed' AND r.routing_confidence >= 0.8))::integer
        AS n_high_confidence
FROM reports r
GROUP BY 1, 2, 3, 4, 5;

CREATE UNIQUE INDEX dashboard_report_days_key
    ON dashboard_report_days (day, category, governorate_code, agency_code, status);

-- Operators read it; agencies see aggregates over every agency nowhere else, so they do not.
GRANT SELECT ON dashboard_report_days TO fix2go_admin;
