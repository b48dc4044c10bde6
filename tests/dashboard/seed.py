"""A handful of known rows for the dashboard tests (inserted with SQL into a throw-away DB).

Four incidents, seven reports, one ingest batch with three rejects and two Gi* cells
(``hotspot_cells`` of sql/004). The reporter pseudonym and the raw row carry marker strings that must never appear on
a dashboard page.
"""

from __future__ import annotations

import h3
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spatial.postgis.dashboard import refresh_aggregates

SECRET_PSEUDONYM = "PSEUDONYM-MUST-NOT-SHOW"
SECRET_RAW = "RAW-ROW-MUST-NOT-SHOW"

# (id, category, status, n_reports, first days ago, last days ago, agency, governorate,
#  recurrence_of, lat, lon)
INCIDENTS = [
    (1, "pothole", "open", 3, 10, 2, "capital_municipality", "BH-13", None, 26.2200, 50.5800),
    (2, "flooding", "open", 1, 4, 4, "mow_sanitary", "BH-13", None, 26.2100, 50.5600),
    (3, "street_light", "closed", 2, 30, 20, "ewa", "BH-15", None, 26.2550, 50.6150),
    (4, "pothole", "in_progress", 1, 6, 6, "muharraq_municipality", "BH-15", 1, 26.2500, 50.6100),
]

# (source_id, incident, category, status, days ago, agency, governorate, routing_status,
#  confidence, flags)
REPORTS = [
    ("r1", 1, "pothole", "open", 10, "capital_municipality", "BH-13", "routed", 0.95, []),
    ("r2", 1, "pothole", "open", 5, "capital_municipality", "BH-13", "routed", 0.90, []),
    ("r3", 1, "pothole", "open", 2, "capital_municipality", "BH-13", "routed", 0.60, []),
    ("r4", 2, "flooding", "open", 4, "mow_sanitary", "BH-13", "triage", 0.40, []),
    ("r5", 3, "street_light", "closed", 30, "ewa", "BH-15", "routed", 0.85, []),
    ("r6", 3, "street_light", "closed", 20, "ewa", "BH-15", "routed", 0.99, ["suspect_location"]),
    ("r7", 4, "pothole", "in_progress", 6, None, "BH-15", "unroutable", None, []),
]

REJECTS = [(2, "bad_coordinates"), (5, "bad_coordinates"), (9, "unknown_category")]

HOTSPOT_RESOLUTION = 8


def cell(lat: float, lon: float, res: int) -> int:
    """int64 H3 cell of a point."""
    return h3.str_to_int(h3.latlng_to_cell(lat, lon, res))


def seed(engine: Engine) -> None:
    """Insert the rows above (idempotence not needed: each DB is seeded once)."""
    with engine.begin() as c:
        batch = c.execute(
            sa.text(
                "INSERT INTO ingest_batches (source, file_name, file_sha256, format, "
                "finished_at, n_in, n_new, n_rejected) VALUES "
                "('fix2go', 'sample.csv', 'abc', 'csv', now(), 10, 7, 3) RETURNING id"
            )
        ).scalar_one()
        for row_number, reason in REJECTS:
            c.execute(
                sa.text(
                    "INSERT INTO ingest_rejects (batch_id, row_number, reason, detail) "
                    "VALUES (:b, :n, :r, 'row detail')"
                ),
                {"b": batch, "n": row_number, "r": reason},
            )
            c.execute(
                sa.text(
                    "INSERT INTO raw_row_blocks (batch_id, first_row, rows) VALUES (:b, :n, :raw)"
                ),
                {"b": batch, "n": row_number, "raw": f'[{{"reporter_id": "{SECRET_RAW}"}}]'},
            )
        for inc in INCIDENTS:
            iid, cat, status, n, first, last, agency, gov, rec, lat, lon = inc
            c.execute(
                sa.text(
                    "INSERT INTO incidents (id, category, status, n_reports, first_reported_at, "
                    "last_reported_at, agency_code, governorate_code, recurrence_of, h3_cell, "
                    "geom) VALUES (:id, :cat, :st, :n, now() - make_interval(days => :f), "
                    "now() - make_interval(days => :l), :ag, :gov, :rec, :h3, "
                    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                ),
                {
                    "id": iid,
                    "cat": cat,
                    "st": status,
                    "n": n,
                    "f": first,
                    "l": last,
                    "ag": agency,
                    "gov": gov,
                    "rec": rec,
                    "h3": cell(lat, lon, 9),
                    "lat": lat,
                    "lon": lon,
                },
            )
        c.execute(sa.text("SELECT setval('incidents_id_seq', 100)"))
        coords = {i[0]: (i[9], i[10]) for i in INCIDENTS}
        for rep in REPORTS:
            sid, iid, cat, status, ago, agency, gov, rstatus, conf, flags = rep
            lat, lon = coords[iid]
            c.execute(
                sa.text(
                    "INSERT INTO reports (source, source_id, category, description, "
                    "reporter_pseudonym, channel, photo_url, status, reported_at, flags, "
                    "content_hash, governorate_code, agency_code, routing_confidence, "
                    "routing_status, routing_reason, h3_cell, incident_id, batch_id, geom) "
                    "VALUES ('fix2go', :sid, :cat, :descr, :pseudo, 'ios', :photo, :st, "
                    "now() - make_interval(days => :ago), :flags, :sid, :gov, :ag, :conf, "
                    ":rst, 'test', :h3, :iid, :b, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                ),
                {
                    "sid": sid,
                    "cat": cat,
                    "descr": f"report {sid}: call me on [phone]",
                    "pseudo": SECRET_PSEUDONYM,
                    "photo": f"https://photos.example/{sid}.jpg",
                    "st": status,
                    "ago": ago,
                    "flags": flags,
                    "gov": gov,
                    "ag": agency,
                    "conf": conf,
                    "rst": rstatus,
                    "h3": cell(lat, lon, 9),
                    "iid": iid,
                    "b": batch,
                    "lat": lat,
                    "lon": lon,
                },
            )
        for (lat, lon), hot, conf, trend in (
            ((26.22, 50.58), 3, 99, "intensifying"),
            ((26.255, 50.615), -2, 95, "diminishing"),
        ):
            h = cell(lat, lon, HOTSPOT_RESOLUTION)
            ring = [(lng, la) for la, lng in h3.cell_to_boundary(h3.int_to_str(h))]
            wkt = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in [*ring, ring[0]]) + "))"
            c.execute(
                sa.text(
                    "INSERT INTO hotspot_cells (resolution, h3_cell, category_group, period, "
                    "n_incidents, gi_z, p_value, hot_class, confidence, trend, geom) VALUES "
                    "(:res, :h, 'all', 'all', 2, :z, 0.001, :hot, :conf, :trend, "
                    "ST_GeomFromText(:wkt, 4326))"
                ),
                {
                    "res": HOTSPOT_RESOLUTION,
                    "h": h,
                    "z": 3.1 * (1 if hot > 0 else -1),
                    "hot": hot,
                    "conf": conf,
                    "trend": trend,
                    "wkt": wkt,
                },
            )
        refresh_aggregates(c)
