-- 006: raw_rows.raw keeps the input row as given.
--
-- `json` (not `jsonb`): the column is the verbatim record of an input row, read only by an
-- administrator and never queried by key or indexed. `json` still validates the text as JSON
-- on input but stores it unchanged (key order and spacing kept, as the source sent it) and
-- skips building the binary jsonb form on every load. Privileges (admin-only, 003) are
-- unchanged.

ALTER TABLE raw_rows ALTER COLUMN raw TYPE json USING raw::json;
