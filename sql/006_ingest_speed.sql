-- 006: cheaper bulk loads into raw_rows and reports, same guarantees (issue 3, benchmarks/INGEST.md).
--
-- 1. raw_rows.raw: jsonb -> json. The column is the verbatim record of an input row, read only
--    by an administrator (never queried by key, never indexed): `json` still validates the text
--    as JSON on input but stores it as given, without building the binary jsonb form, which was
--    about a quarter of the ingest's load time. Privileges (admin-only, 003) are unchanged.
--
-- 2. reports.category, reports.agency_code, reports.batch_id: the per-row foreign-key triggers
--    (one SPI look-up and one row lock per inserted row) are replaced by set-based checks with
--    the same meaning:
--    - on INSERT into reports, one statement-level trigger over the transition table of the
--      statement (one COPY of 50k rows = one check): every non-null category / agency_code /
--      batch_id must exist in categories / agencies / ingest_batches, and the referenced
--      parent rows are locked FOR KEY SHARE exactly as the foreign key does, so a concurrent
--      DELETE of a parent waits for this transaction and then sees its rows;
--    - on UPDATE of reports, a row-level trigger fired only WHEN one of the three columns
--      changes (so the dedup's incident updates pay nothing) runs the same check;
--    - on the parent side, DELETE or a key UPDATE of a referenced categories / agencies /
--      ingest_batches row is refused, as the NO ACTION foreign keys refused it (checked after
--      the statement, with a fresh snapshot, so rows committed meanwhile are seen). No index
--      is added for these look-ups: the foreign keys had none either, and every index on
--      reports is paid by every load (parents are reference data, deleted rarely if ever).
--    Violations raise SQLSTATE 23503 (foreign_key_violation), as the foreign keys did.
--    reports.incident_id keeps its foreign key (ON DELETE SET NULL; new rows carry NULL, for
--    which the RI trigger returns before any look-up).

ALTER TABLE raw_rows ALTER COLUMN raw TYPE json USING raw::json;

ALTER TABLE reports DROP CONSTRAINT IF EXISTS reports_category_fkey;
ALTER TABLE reports DROP CONSTRAINT IF EXISTS reports_agency_code_fkey;
ALTER TABLE reports DROP CONSTRAINT IF EXISTS reports_batch_id_fkey;

CREATE FUNCTION reports_check_parents_set() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM 1 FROM categories c
     WHERE c.code IN (SELECT DISTINCT n.category FROM new_reports n) FOR KEY SHARE;
    PERFORM 1 FROM agencies a
     WHERE a.code IN (SELECT DISTINCT n.agency_code FROM new_reports n) FOR KEY SHARE;
    PERFORM 1 FROM ingest_batches b
     WHERE b.id IN (SELECT DISTINCT n.batch_id FROM new_reports n) FOR KEY SHARE;
    SELECT 'category ' || quote_literal(n.category) INTO bad FROM new_reports n
     WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.code = n.category) LIMIT 1;
    IF bad IS NULL THEN
        SELECT 'agency_code ' || quote_literal(n.agency_code) INTO bad FROM new_reports n
         WHERE n.agency_code IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.code = n.agency_code) LIMIT 1;
    END IF;
    IF bad IS NULL THEN
        SELECT 'batch_id ' || n.batch_id INTO bad FROM new_reports n
         WHERE n.batch_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM ingest_batches b WHERE b.id = n.batch_id) LIMIT 1;
    END IF;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'insert on table "reports" violates the reference of %: not present in its parent table', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_parents_insert AFTER INSERT ON reports
    REFERENCING NEW TABLE AS new_reports
    FOR EACH STATEMENT EXECUTE FUNCTION reports_check_parents_set();

CREATE FUNCTION reports_check_parents_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM categories WHERE code = NEW.category FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'update on table "reports" violates the reference of category %: not present in categories', quote_literal(NEW.category)
            USING ERRCODE = 'foreign_key_violation';
    END IF;
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

CREATE TRIGGER reports_parents_update AFTER UPDATE ON reports
    FOR EACH ROW
    WHEN (OLD.category IS DISTINCT FROM NEW.category
          OR OLD.agency_code IS DISTINCT FROM NEW.agency_code
          OR OLD.batch_id IS DISTINCT FROM NEW.batch_id)
    EXECUTE FUNCTION reports_check_parents_row();

-- parent side: a referenced key may not disappear (NO ACTION, as before)
CREATE FUNCTION reports_parent_key_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    col text := TG_ARGV[0];
    old_key text := to_jsonb(OLD) ->> TG_ARGV[1];
    new_key text := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(NEW) ->> TG_ARGV[1] END;
    used boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND new_key IS NOT DISTINCT FROM old_key THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM reports WHERE %I = $1::%s)', col, TG_ARGV[2])
        INTO used USING old_key;
    IF used THEN
        RAISE EXCEPTION '% on table "%" violates the reference from reports.%: key % is still referenced', lower(TG_OP), TG_TABLE_NAME, col, quote_literal(old_key)
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
