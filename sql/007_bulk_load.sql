-- 007: cheaper bulk loads, same guarantees (issue 3; figures in benchmarks/INGEST.md).
--
-- Measured at 300k prepared rows on this stack, one COPY of the same rows per variant: the
-- per-row foreign key of reports.category costs about as much as a fifth of the whole COPY
-- (one SPI look-up and one row lock per row), and storing every raw input row as its own
-- `json` tuple with a primary key and a foreign key costs about 40 % of the report COPY.
--
-- 1. reports.category: the foreign key to categories becomes a CHECK against the ten codes of
--    the contract (../shared/CONTRACT.md: fixed codes, the only ones validation accepts). A
--    CHECK costs a comparison per row. categories.code gets the same CHECK, so the two lists
--    cannot drift apart (a test also compares them with spatial.categories), and a trigger
--    keeps what the foreign key's NO ACTION did on the parent side: a category code still
--    used by a report cannot be deleted or renamed.
--    The other references of reports keep their foreign keys: agency_code (agencies change
--    with reference data), batch_id, incident_id (NULL on new rows: no look-up).
--
-- 2. raw_rows: the restricted verbatim record of every input row is stored in blocks, one
--    row of raw_row_blocks per loaded chunk: a JSON array of the chunk's rows in file order
--    (the `json` type still validates it as JSON on input and keeps the text as given), with
--    the row number of its first element. One tuple, one primary-key entry and one foreign-key
--    check per chunk of 50,000 rows instead of per row; lz4-compressed where the server has
--    lz4 (about 4x smaller on disk: less personal data at rest).
--    `raw_rows` becomes a view with the same columns (batch_id, row_number, raw), so what an
--    administrator queries is unchanged; it is as restricted as the table was (admin only;
--    security_invoker, so reading it needs the privilege on the blocks too). Deleting a
--    batch still deletes its raw rows (ON DELETE CASCADE).

-- 1. --------------------------------------------------------------------------------------

ALTER TABLE reports DROP CONSTRAINT reports_category_fkey;
ALTER TABLE reports ADD CONSTRAINT reports_category_known CHECK (category IN (
    'pothole', 'damaged_road', 'sidewalk', 'street_light', 'traffic_signal',
    'road_sign', 'flooding', 'sewage', 'debris', 'abandoned_vehicle'));
ALTER TABLE categories ADD CONSTRAINT categories_code_known CHECK (code IN (
    'pothole', 'damaged_road', 'sidewalk', 'street_light', 'traffic_signal',
    'road_sign', 'flooding', 'sewage', 'debris', 'abandoned_vehicle'));

CREATE FUNCTION categories_code_in_use() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'DELETE' OR NEW.code IS DISTINCT FROM OLD.code)
       AND EXISTS (SELECT 1 FROM reports WHERE category = OLD.code) THEN
        RAISE EXCEPTION 'category % is still used by reports: it cannot be deleted or renamed',
            quote_literal(OLD.code)
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER categories_code_in_use AFTER DELETE OR UPDATE OF code ON categories
    FOR EACH ROW EXECUTE FUNCTION categories_code_in_use();

-- 2. --------------------------------------------------------------------------------------

CREATE TABLE raw_row_blocks (
    batch_id    bigint NOT NULL REFERENCES ingest_batches (id) ON DELETE CASCADE,
    first_row   integer NOT NULL CHECK (first_row >= 1),
    rows        json NOT NULL,
    PRIMARY KEY (batch_id, first_row),
    CHECK (json_typeof(rows) = 'array')
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE raw_row_blocks ALTER COLUMN rows SET COMPRESSION lz4;
    END IF;
END $$;

-- rows already loaded: one block each (their text kept as it is)
INSERT INTO raw_row_blocks (batch_id, first_row, rows)
SELECT batch_id, row_number, ('[' || raw::text || ']')::json FROM raw_rows;

DROP TABLE raw_rows;

CREATE VIEW raw_rows WITH (security_invoker = true) AS
SELECT b.batch_id,
       b.first_row + (e.i - 1)::integer AS row_number,
       e.raw
FROM raw_row_blocks b
CROSS JOIN LATERAL json_array_elements(b.rows) WITH ORDINALITY AS e (raw, i);

REVOKE ALL ON raw_row_blocks, raw_rows FROM PUBLIC;
GRANT SELECT ON raw_row_blocks, raw_rows TO fix2go_admin;
