"""English and Arabic labels of the dashboard; Arabic lays the page out right to left.

Category, governorate, agency and place names come from the database (``name_en`` /
``name_ar`` columns); this module holds the interface strings and picks the right column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LANGUAGES: Mapping[str, str] = {"en": "English", "ar": "العربية"}
"""Language code -> its own name (shown in the switcher)."""

RTL_LANGUAGES = frozenset({"ar"})

STRINGS: Mapping[str, tuple[str, str]] = {
    "app_title": ("Fix2Go Spatial", "صوّر لنطوّر - المنصة المكانية"),
    "language": ("Language", "اللغة"),
    "page_planner": ("Planner map", "خريطة التخطيط"),
    "page_agency": ("Agency inbox", "صندوق الجهة"),
    "page_quality": ("Data quality", "جودة البيانات"),
    "refresh": ("Refresh data", "تحديث البيانات"),
    "filters": ("Filters", "عوامل التصفية"),
    "date_range": ("Date range", "الفترة"),
    "categories": ("Categories", "الفئات"),
    "governorate": ("Governorate", "المحافظة"),
    "agency": ("Agency", "الجهة"),
    "status": ("Status", "الحالة"),
    "all": ("All", "الكل"),
    "resolution": ("Hexagon size (H3 resolution)", "حجم الخلايا السداسية (دقة H3)"),
    "kpi_open": ("Open incidents", "البلاغات المفتوحة"),
    "kpi_reports": ("Reports in period", "البلاغات في الفترة"),
    "kpi_age": ("Median age of open incidents (days)", "متوسط عمر البلاغات المفتوحة (أيام)"),
    "kpi_confidence": ("Routed with high confidence", "موجهة بثقة عالية"),
    "layer_governorates": ("Governorates", "المحافظات"),
    "layer_hexagons": ("Incidents per hexagon", "البلاغات لكل خلية"),
    "layer_hotspots": ("Hot and cold spots (Gi*)", "البؤر الساخنة والباردة (Gi*)"),
    "layer_heat": ("Heat map", "خريطة الكثافة"),
    "layer_incidents": ("Incidents", "البلاغات"),
    "layer_boundary": ("Agency boundary", "حدود الجهة"),
    "layer_triage": ("Triage queue", "قائمة الفرز"),
    "n_incidents": ("Incidents", "عدد البلاغات"),
    "top_hotspots": ("Top hotspots", "أبرز البؤر الساخنة"),
    "top_hotspots_help": (
        "Select a row to focus the map on it.",
        "اختر صفًا لتركيز الخريطة عليه.",
    ),
    "place": ("Place", "المكان"),
    "trend": ("Trend", "الاتجاه"),
    "confidence": ("Confidence", "مستوى الثقة"),
    "weekly_trend": ("Reports per week and category", "البلاغات أسبوعيًا حسب الفئة"),
    "no_data": ("No data yet: ingest reports to fill this view.", "لا توجد بيانات بعد."),
    "no_hotspots": (
        "No hotspots computed yet (run `fix2go hotspots`).",
        "لم تُحسب البؤر الساخنة بعد.",
    ),
    "markers_hidden": (
        "Individual incidents are shown when at most {n} are in view; select a hotspot to zoom.",
        "تظهر البلاغات الفردية عندما لا يزيد عددها عن {n}؛ اختر بؤرة للتكبير.",
    ),
    "pick_agency": ("Agency", "الجهة"),
    "inbox": ("Open incidents by priority", "البلاغات المفتوحة حسب الأولوية"),
    "inbox_help": (
        "Ordered by number of reports, then age, then recurrence. Select a row for its reports.",
        "مرتبة حسب عدد البلاغات ثم العمر ثم التكرار. اختر صفًا لعرض بلاغاته.",
    ),
    "incident": ("Incident", "البلاغ الموحد"),
    "reports_of": ("Reports of incident {id}", "بلاغات البلاغ الموحد {id}"),
    "n_reports": ("Reports", "البلاغات"),
    "age_days": ("Age (days)", "العمر (أيام)"),
    "recurrence": ("Recurring", "متكرر"),
    "reported_at": ("Reported at", "تاريخ البلاغ"),
    "description": ("Description (redacted)", "الوصف (منقح)"),
    "photo": ("Photo", "الصورة"),
    "channel": ("Channel", "القناة"),
    "category": ("Category", "الفئة"),
    "download_csv": ("Download CSV", "تنزيل CSV"),
    "download_geojson": ("Download GeoJSON", "تنزيل GeoJSON"),
    "download_open311": ("Download Open311 JSON", "تنزيل Open311 JSON"),
    "rls_on": (
        "Read through the agency's database role (row-level security).",
        "تُقرأ البيانات عبر دور الجهة في قاعدة البيانات (أمان على مستوى الصفوف).",
    ),
    "rls_off": (
        "Agency roles are not installed yet: rows are filtered by agency code.",
        "أدوار الجهات غير مثبتة بعد: تُصفّى الصفوف حسب رمز الجهة.",
    ),
    "batches": ("Ingest batches", "دفعات الإدخال"),
    "rejects": ("Rejected rows by reason", "الصفوف المرفوضة حسب السبب"),
    "reject_rows": ("Rejected rows (row numbers)", "الصفوف المرفوضة (أرقام الصفوف)"),
    "reason": ("Reason", "السبب"),
    "triage": ("Triage queue: unroutable and low-confidence reports", "قائمة الفرز"),
    "candidates": ("Candidate agencies", "الجهات المرشحة"),
    "suspect": ("Suspect locations", "مواقع مشكوك فيها"),
    "count_rows": ("{n} rows", "{n} صفوف"),
    "open": ("open", "مفتوح"),
    "in_progress": ("in progress", "قيد التنفيذ"),
    "closed": ("closed", "مغلق"),
    "new": ("new", "جديدة"),
    "intensifying": ("intensifying", "متصاعدة"),
    "persistent": ("persistent", "مستمرة"),
    "diminishing": ("diminishing", "متراجعة"),
    "sporadic": ("sporadic", "متقطعة"),
    "none": ("no trend", "بلا اتجاه"),
}

COLUMN_LABELS: Mapping[str, tuple[str, str]] = {
    "batch_id": ("Batch", "الدفعة"),
    "source": ("Source", "المصدر"),
    "file_name": ("File", "الملف"),
    "format": ("Format", "الصيغة"),
    "started_at": ("Started", "البدء"),
    "finished_at": ("Finished", "الانتهاء"),
    "n_in": ("Rows in", "الصفوف الواردة"),
    "n_new": ("New", "جديدة"),
    "n_updated": ("Updated", "محدثة"),
    "n_unchanged": ("Unchanged", "دون تغيير"),
    "n_rejected": ("Rejected", "مرفوضة"),
    "row_number": ("Row", "رقم الصف"),
    "reason": ("Reason", "السبب"),
    "detail": ("Detail", "التفاصيل"),
    "report_id": ("Report", "البلاغ"),
    "category": ("Category", "الفئة"),
    "reported_at": ("Reported at", "تاريخ البلاغ"),
    "routing_status": ("Routing", "التوجيه"),
    "routing_confidence": ("Confidence", "الثقة"),
    "routing_reason": ("Routing reason", "سبب التوجيه"),
    "agency_code": ("Agency", "الجهة"),
    "candidates": ("Candidate agencies", "الجهات المرشحة"),
    "flags": ("Flags", "العلامات"),
    "governorate_code": ("Governorate", "المحافظة"),
}
"""Table column -> (English, Arabic) header."""


def column_labels(columns: Iterable[str], lang: str) -> dict[str, str]:
    """Translated headers for the known ``columns`` (a ``column_config`` mapping).

    Examples
    --------
    >>> column_labels(["row_number", "other"], "ar")
    {'row_number': 'رقم الصف'}
    """
    idx = 1 if lang == "ar" else 0
    return {c: COLUMN_LABELS[c][idx] for c in columns if c in COLUMN_LABELS}


STATUSES = ("open", "in_progress", "closed")
TRENDS = ("new", "intensifying", "persistent", "diminishing", "sporadic", "none")
"""Emerging-hotspot trend labels of ``hotspot_cells.trend`` (sql/004)."""


def t(key: str, lang: str, **fmt: object) -> str:
    """The label ``key`` in ``lang`` (``en`` or ``ar``), formatted with ``fmt``.

    Examples
    --------
    >>> t("kpi_open", "ar")
    'البلاغات المفتوحة'
    >>> t("reports_of", "en", id=7)
    'Reports of incident 7'
    """
    en, ar = STRINGS[key]
    text = ar if lang == "ar" else en
    return text.format(**fmt) if fmt else text


def name_column(lang: str) -> str:
    """``name_ar`` or ``name_en``: the database column holding names in ``lang``."""
    return "name_ar" if lang == "ar" else "name_en"


def place_column(lang: str) -> str:
    """``place_ar`` or ``place_en``."""
    return "place_ar" if lang == "ar" else "place_en"


def is_rtl(lang: str) -> bool:
    """True for right-to-left languages."""
    return lang in RTL_LANGUAGES


def trend_labels(lang: str) -> dict[str, str]:
    """Hotspot trend code -> label in ``lang``."""
    return {code: t(code, lang) for code in TRENDS}


RTL_CSS = """
<style>
.stApp, [data-testid="stSidebar"], [data-testid="stMarkdownContainer"] {
  direction: rtl; text-align: right;
}
iframe, [data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"] {
  direction: ltr;
}
</style>
"""

DIR_SCRIPT = """
<script>
document.documentElement.setAttribute("dir", "{dir}");
document.documentElement.setAttribute("lang", "{lang}");
</script>
"""


def dir_script(lang: str) -> str:
    """A script setting ``dir``/``lang`` on the page's ``<html>``."""
    return DIR_SCRIPT.replace("{dir}", "rtl" if is_rtl(lang) else "ltr").replace("{lang}", lang)
