-- 001: the core schema of Fix2Go Spatial.
-- Storage is EPSG:4326; metric work is done in EPSG:32639 (UTM 39N).
-- Applied once, in one transaction, by `fix2go db migrate`.

CREATE EXTENSION IF NOT EXISTS postgis;

-- Reference data ----------------------------------------------------------------------------

CREATE TABLE categories (
    code        text PRIMARY KEY,
    name_en     text NOT NULL,
    name_ar     text NOT NULL
);

CREATE TABLE agencies (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]*$'),
    name_en     text NOT NULL,
    name_ar     text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('municipality', 'ministry', 'directorate', 'authority'))
);

-- Boundary layers are versioned: loading a new version keeps the old one, and exactly one
-- version per code is current.
CREATE TABLE governorates (
    id                serial PRIMARY KEY,
    code              text NOT NULL,
    name_en           text NOT NULL,
    name_ar           text,
    boundary_version  text NOT NULL,
    is_current        boolean NOT NULL DEFAULT true,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    geom              geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    UNIQUE (code, boundary_version)
);
CREATE UNIQUE INDEX governorates_current_code ON governorates (code) WHERE is_current;
CREATE INDEX governorates_geom_gist ON governorates USING gist (geom);

CREATE TABLE road_authorities (
    id                serial PRIMARY KEY,
    code              text NOT NULL,
    name_en           text NOT NULL,
    name_ar           text,
    kind              text NOT NULL CHECK (kind IN ('municipal_area', 'corridor', 'special_zone')),
    -- where several authorities contain a point, the highest precedence wins
    precedence        integer NOT NULL,
    default_agency    text NOT NULL REFERENCES agencies (code),
    boundary_version  text NOT NULL,
    is_current        boolean NOT NULL DEFAULT true,
    loaded_at         timestamptz NOT NULL DEFAULT now(),
    geom              geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    UNIQUE (code, boundary_version)
);
CREATE UNIQUE INDEX road_authorities_current_code ON road_authorities (code) WHERE is_current;
CREATE INDEX road_authorities_geom_gist ON road_authorities USING gist (geom);

-- category x road authority -> agency; a category with no rule for an authority goes to the
-- authority's default agency.
CREATE TABLE routing_rules (
    authority_code  text NOT NULL,
    category        text NOT NULL REFERENCES categories (code),
    agency_code     text NOT NULL REFERENCES agencies (code),
    PRIMARY KEY (authority_code, category)
);

CREATE TABLE places (
    wof_id      bigint PRIMARY KEY,
    placetype   text NOT NULL,
    name_en     text NOT NULL,
    name_ar     text,
    geom        geometry(Point, 4326) NOT NULL
);
CREATE INDEX places_geom_gist ON places USING gist (geom);

-- Ingest accounting: every input row is new, updated, unchanged or rejected. ----------------

CREATE TABLE ingest_batches (
    id            bigserial PRIMARY KEY,
    source        text NOT NULL,
    file_name     text NOT NULL,
    file_sha256   text NOT NULL,
    format        text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    n_in          integer NOT NULL DEFAULT 0 CHECK (n_in >= 0),
    n_new         integer NOT NULL DEFAULT 0 CHECK (n_new >= 0),
    n_updated     integer NOT NULL DEFAULT 0 CHECK (n_updated >= 0),
    n_unchanged   integer NOT NULL DEFAULT 0 CHECK (n_unchanged >= 0),
    n_rejected    integer NOT NULL DEFAULT 0 CHECK (n_rejected >= 0),
    CHECK (n_in = n_new + n_updated + n_unchanged + n_rejected)
);

-- Rejected rows: row number and reason only; the raw row (which may hold personal data)
-- lives in the restricted raw_rows table.
CREATE TABLE ingest_rejects (
    batch_id    bigint NOT NULL REFERENCES ingest_batches (id) ON DELETE CASCADE,
    row_number  integer NOT NULL,
    reason      text NOT NULL,
    detail      text,
    PRIMARY KEY (batch_id, row_number)
);
CREATE INDEX ingest_rejects_reason ON ingest_rejects (reason);

-- RESTRICTED: the raw input rows, personal data included. Only the administrator role reads
-- it; it never appears in a view, an export or the dashboard.
CREATE TABLE raw_rows (
    batch_id    bigint NOT NULL REFERENCES ingest_batches (id) ON DELETE CASCADE,
    row_number  integer NOT NULL,
    raw         jsonb NOT NULL,
    PRIMARY KEY (batch_id, row_number)
);

-- Incidents: duplicate reports of one defect merged. -----------------------------------------

CREATE TABLE incidents (
    id                 bigserial PRIMARY KEY,
    category           text NOT NULL REFERENCES categories (code),
    status             text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'closed')),
    n_reports          integer NOT NULL CHECK (n_reports > 0),
    first_reported_at  timestamptz NOT NULL,
    last_reported_at   timestamptz NOT NULL CHECK (last_reported_at >= first_reported_at),
    agency_code        text REFERENCES agencies (code),
    governorate_code   text,
    recurrence_of      bigint REFERENCES incidents (id),
    h3_cell            bigint,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    geom               geometry(Point, 4326) NOT NULL
);
CREATE INDEX incidents_geom_gist ON incidents USING gist (geom);
CREATE INDEX incidents_agency ON incidents (agency_code);

-- Reports: one row per (source, source_id), personal data already removed. -------------------

CREATE TABLE reports (
    id                  bigserial PRIMARY KEY,
    source              text NOT NULL,
    source_id           text NOT NULL,
    category            text NOT NULL REFERENCES categories (code),
    description         text,            -- redacted: [phone], [email], [id]
    reporter_pseudonym  text,            -- HMAC-SHA256 of the normalised reporter id
    channel             text CHECK (channel IN ('ios', 'android', 'web', 'call_centre', 'open311', 'other')),
    photo_url           text,
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'closed')),
    reported_at         timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- repairs and warnings: swapped_coordinates, non_latin_digits, naive_timestamp,
    -- suspect_location
    flags               text[] NOT NULL DEFAULT '{}',
    content_hash        text NOT NULL,   -- detects "same content seen before"
    governorate_code    text,
    authority_code      text,
    agency_code         text REFERENCES agencies (code),
    routing_confidence  double precision CHECK (routing_confidence BETWEEN 0 AND 1),
    routing_reason      text,
    routing_status      text CHECK (routing_status IN ('routed', 'triage', 'unroutable')),
    place_en            text,
    place_ar            text,
    h3_cell             bigint,
    incident_id         bigint REFERENCES incidents (id) ON DELETE SET NULL,
    batch_id            bigint REFERENCES ingest_batches (id),
    geom                geometry(Point, 4326) NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX reports_geom_gist ON reports USING gist (geom);
CREATE INDEX reports_agency ON reports (agency_code);
CREATE INDEX reports_incident ON reports (incident_id);
CREATE INDEX reports_reported_at ON reports (reported_at);

CREATE TABLE report_status_history (
    report_id   bigint NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    status      text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    batch_id    bigint REFERENCES ingest_batches (id),
    PRIMARY KEY (report_id, changed_at, status)
);

-- Analyst views (stable: notebooks, QGIS and exports read these). No personal data.
-- security_invoker: row-level security of the querying role applies through the view.

CREATE VIEW report_view WITH (security_invoker = true) AS
SELECT
    r.id                 AS report_id,
    r.source,
    r.source_id,
    r.category,
    r.reported_at,
    r.status,
    r.governorate_code,
    r.authority_code,
    r.agency_code,
    r.routing_confidence,
    r.routing_reason,
    r.incident_id,
    r.h3_cell,
    r.place_en,
    r.place_ar,
    r.geom
FROM reports r;

CREATE VIEW incident_view WITH (security_invoker = true) AS
SELECT
    i.id                 AS incident_id,
    i.category,
    i.status,
    i.n_reports,
    i.first_reported_at,
    i.last_reported_at,
    i.agency_code,
    i.governorate_code,
    i.geom
FROM incidents i;
