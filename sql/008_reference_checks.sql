-- 008: the agency and batch references of reports checked once per statement instead of once
-- per row (issue 3; figures in benchmarks/INGEST.md), same meaning as the foreign keys.
--
-- Measured at 300k prepared rows on this stack, server CPU of one COPY of the same rows into a
-- copy of reports: 4.7-5.6 s without foreign keys, 7.3-8.2 s with those of agency_code and
-- batch_id (one SPI look-up and one row lock per row and key), 5.3-6.0 s with the check below.
--
-- - insert: one statement-level trigger over the statement's transition table (one COPY of
--   50k rows = one check of its few distinct agencies and its one batch): the referenced
--   parents are locked FOR KEY SHARE as the foreign key locks them, so they cannot go before
--   this transaction ends; then any value missing from agencies / ingest_batches is refused.
-- - update: a row-level trigger fired only WHEN agency_code or batch_id changes (route
--   replay; dedup's incident updates pay nothing) runs the same check for that row.
-- - parent side, what NO ACTION did: an agency or batch still referenced by a report cannot
--   be deleted or have its key changed. The same function now also guards categories (007's
--   category trigger is replaced by it).
-- Violations raise SQLSTATE 23503 (foreign_key_violation), as the foreign keys did.
-- incident_id keeps its foreign key (NULL on new rows: no look-up).

ALTER TABLE reports DROP CONSTRAINT reports_agency_code_fkey;
ALTER TABLE reports DROP CONSTRAINT reports_batch_id_fkey;

DROP TRIGGER categories_code_in_use ON categories;
DROP FUNCTION categories_code_in_use();

-- insert: one check per statement over its distinct agencies and batches
CREATE FUNCTION reports_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    agency_codes text[];
    batch_ids bigint[];
    missing text;
BEGIN
    SELECT array_agg(a) INTO agency_codes
      FROM (SELECT DISTINCT n.agency_code AS a FROM new_reports n
             WHERE n.agency_code IS NOT NULL) d;
    SELECT array_agg(b) INTO batch_ids
      FROM (SELECT DISTINCT n.batch_id AS b FROM new_reports n WHERE n.batch_id IS NOT NULL) d;
    -- lock the parents as a foreign key does: they cannot go before this transaction ends
    PERFORM 1 FROM agencies WHERE code = ANY (agency_codes) FOR KEY SHARE;
    PERFORM 1 FROM ingest_batches WHERE id = ANY (batch_ids) FOR KEY SHARE;
    SELECT 'agency_code ' || quote_literal(x) INTO missing FROM unnest(agency_codes) x
     WHERE NOT EXISTS (SELECT 1 FROM agencies WHERE code = x) LIMIT 1;
    IF missing IS NULL THEN
        SELECT 'batch_id ' || x INTO missing FROM unnest(batch_ids) x
         WHERE NOT EXISTS (SELECT 1 FROM ingest_batches WHERE id = x) LIMIT 1;
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert on table "reports" violates the reference of %: not present in its parent table', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_references_insert AFTER INSERT ON reports
    REFERENCING NEW TABLE AS new_reports
    FOR EACH STATEMENT EXECUTE FUNCTION reports_check_references();

-- update: per row, only when agency_code or batch_id changes
CREATE FUNCTION reports_check_references_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agency_code IS NOT NULL THEN
        PERFORM 1 FROM agencies WHERE code = NEW.agency_code FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'update on table "reports" violates the reference of agency_code %: not present in agencies', quote_literal(NEW.agency_code)
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    IF NEW.batch_id IS NOT NULL THEN
        PERFORM 1 FROM ingest_batches WHERE id = NEW.batch_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'update on table "reports" violates the reference of batch_id %: not present in ingest_batches', NEW.batch_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_references_update AFTER UPDATE ON reports
    FOR EACH ROW
    WHEN (OLD.agency_code IS DISTINCT FROM NEW.agency_code
          OR OLD.batch_id IS DISTINCT FROM NEW.batch_id)
    EXECUTE FUNCTION reports_check_references_row();

-- parent side: a key still referenced by a report may not disappear (NO ACTION, as before).
-- Arguments: the column of reports, the parent's key column, its type.
CREATE FUNCTION reports_parent_key_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_key text := to_jsonb(OLD) ->> TG_ARGV[1];
    new_key text := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(NEW) ->> TG_ARGV[1] END;
    used boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND new_key IS NOT DISTINCT FROM old_key THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM reports WHERE %I = $1::%s)',
                   TG_ARGV[0], TG_ARGV[2])
        INTO used USING old_key;
    IF used THEN
        RAISE EXCEPTION '% on table "%" violates the reference from reports.%: key % is still referenced',
            lower(TG_OP), TG_TABLE_NAME, TG_ARGV[0], quote_literal(old_key)
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER categories_referenced_by_reports AFTER DELETE OR UPDATE ON categories
    FOR EACH ROW EXECUTE FUNCTION reports_parent_key_kept('category', 'code', 'text');
CREATE TRIGGER agencies_referenced_by_reports AFTER DELETE OR UPDATE ON agencies
    FOR EACH ROW EXECUTE FUNCTION reports_parent_key_kept('agency_code', 'code', 'text');
CREATE TRIGGER ingest_batches_referenced_by_reports AFTER DELETE OR UPDATE ON ingest_batches
    FOR EACH ROW EXECUTE FUNCTION reports_parent_key_kept('batch_id', 'id', 'bigint');
