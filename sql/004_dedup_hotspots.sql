-- 004: dedup (reports -> incidents) and hotspots (incidents -> Gi* H3 cells).
-- Written by spatial.postgis.incidents and spatial.postgis.hotspots (`fix2go dedup`,
-- `fix2go hotspots`); read directly by the dashboard and the analyst API.

-- Incidents: the report that started an incident (its seed) is the stable key dedup
-- recomputes against: the pure clustering labels every report by its incident's seed.
ALTER TABLE incidents ADD COLUMN seed_report_id bigint;
-- earliest closure of the incident's reports (a later report starts a recurrence)
ALTER TABLE incidents ADD COLUMN closed_at timestamptz;
CREATE UNIQUE INDEX incidents_seed_report ON incidents (seed_report_id);
CREATE INDEX incidents_h3_cell ON incidents (h3_cell);
CREATE INDEX incidents_recurrence_of ON incidents (recurrence_of);
CREATE INDEX incidents_first_reported_at ON incidents (first_reported_at);

-- Hotspot cells: Getis-Ord Gi* per H3 cell, resolution, category group and period, with the
-- ArcGIS-style class (hot_class -3..3, confidence 90/95/99 after FDR) and the emerging-hot-spot
-- trend. Replaced as a whole by each `fix2go hotspots` run (one transaction).
CREATE TABLE hotspot_cells (
    resolution      smallint NOT NULL CHECK (resolution BETWEEN 0 AND 15),
    h3_cell         bigint NOT NULL,
    category_group  text NOT NULL,
    period          text NOT NULL,
    n_incidents     integer NOT NULL CHECK (n_incidents >= 0),
    gi_z            double precision NOT NULL,
    p_value         double precision NOT NULL CHECK (p_value BETWEEN 0 AND 1),
    p_sim           double precision CHECK (p_sim BETWEEN 0 AND 1),  -- permutation pseudo p
    hot_class       smallint NOT NULL CHECK (hot_class BETWEEN -3 AND 3),
    confidence      smallint CHECK (confidence IN (90, 95, 99)),
    trend           text NOT NULL CHECK (trend IN
                        ('new', 'intensifying', 'persistent', 'diminishing', 'sporadic', 'none')),
    computed_at     timestamptz NOT NULL DEFAULT now(),
    geom            geometry(Polygon, 4326) NOT NULL,
    PRIMARY KEY (resolution, h3_cell, category_group, period),
    CHECK ((hot_class = 0) = (confidence IS NULL))
);
CREATE INDEX hotspot_cells_geom_gist ON hotspot_cells USING gist (geom);
CREATE INDEX hotspot_cells_class ON hotspot_cells (resolution, category_group, period, hot_class);

-- Aggregates over every agency, no personal data: planners, agencies and operators read them.
GRANT SELECT ON hotspot_cells TO fix2go_admin, fix2go_agency;
