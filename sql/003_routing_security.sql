-- 003: routing audit trail, database roles and row-level security.
--
-- Roles are cluster-wide (shared by every database of the server, e.g. several test
-- databases), so they are created idempotently and race-safely. Privileges and policies are
-- per database and are granted here to two group roles:
--   fix2go_admin   operators: read everything, including the restricted raw_rows table;
--   fix2go_agency  the group of every per-agency role `fix2go_agency_<agency code>` (NOLOGIN,
--                  created by spatial.postgis.security.ensure_agency_roles once the agencies
--                  are loaded): reads only the reports and incidents routed to its agency.
-- The application's own user owns the tables and is not subject to row-level security.

-- Audit trail of re-routing (fix2go route --replay): one row per changed report. -------------

CREATE TABLE routing_audit (
    id                    bigserial PRIMARY KEY,
    report_id             bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    old_governorate_code  text,
    new_governorate_code  text,
    old_authority_code    text,
    new_authority_code    text,
    old_agency_code       text,
    new_agency_code       text,
    boundary_version      text NOT NULL,
    changed_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_audit_report ON routing_audit (report_id);
CREATE INDEX reports_routing_status ON reports (routing_status);

-- Group roles (cluster-wide, created once). ---------------------------------------------------

DO $$
BEGIN
    BEGIN
        CREATE ROLE fix2go_admin NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;  -- created by another database of this cluster
    END;
    BEGIN
        CREATE ROLE fix2go_agency NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
END
$$;

-- The agency of the current role: `fix2go_agency_<code>` -> `<code>`, otherwise NULL.
CREATE FUNCTION fix2go_current_agency() RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN current_user LIKE 'fix2go\_agency\_%' THEN substr(current_user, 15)
    END
$$;

-- Privileges (this database). ----------------------------------------------------------------

GRANT USAGE ON SCHEMA public TO fix2go_admin, fix2go_agency;
GRANT EXECUTE ON FUNCTION fix2go_current_agency() TO fix2go_admin, fix2go_agency;

-- Operators read everything, the restricted raw rows included.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO fix2go_admin;

-- Agencies: their reports and incidents (through row-level security), the analyst views and
-- the reference tables; never raw_rows, ingest_rejects or ingest_batches.
GRANT SELECT ON reports, incidents, report_view, incident_view,
    categories, agencies, governorates, road_authorities, routing_rules, places
    TO fix2go_agency;
-- An agency may update the status of its own reports and incidents (and nothing else).
GRANT UPDATE (status, updated_at) ON reports, incidents TO fix2go_agency;

REVOKE ALL ON raw_rows, ingest_rejects FROM PUBLIC;

-- Row-level security. --------------------------------------------------------------------------

ALTER TABLE reports ENABLE ROW LEVEL SECURITY;
ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;

CREATE POLICY reports_agency_read ON reports FOR SELECT TO fix2go_agency
    USING (agency_code = fix2go_current_agency());
CREATE POLICY reports_agency_update ON reports FOR UPDATE TO fix2go_agency
    USING (agency_code = fix2go_current_agency())
    WITH CHECK (agency_code = fix2go_current_agency());
CREATE POLICY reports_admin_read ON reports FOR SELECT TO fix2go_admin USING (true);

CREATE POLICY incidents_agency_read ON incidents FOR SELECT TO fix2go_agency
    USING (agency_code = fix2go_current_agency());
CREATE POLICY incidents_agency_update ON incidents FOR UPDATE TO fix2go_agency
    USING (agency_code = fix2go_current_agency())
    WITH CHECK (agency_code = fix2go_current_agency());
CREATE POLICY incidents_admin_read ON incidents FOR SELECT TO fix2go_admin USING (true);
