"""`manage.py import_areas`: real shared files and hand-made WDPA files of both schemas."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import MultiPolygon, Polygon, box

from protected_areas.importers import import_areas
from protected_areas.models import ProtectedArea
from tests import wdpa_files
from tests.builders import SHARED_DATA
from tests.wdpa_files import BOWTIE, SQUARE, classic_row, site_row, write

UAE = SHARED_DATA / "protected_areas" / "uae_pad_ccby"
PNG_ADM1 = SHARED_DATA / "boundaries" / "png_adm1_ocha"

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_areas", *args, stdout=out)
    return out.getvalue()


def test_it_imports_the_uae_file_and_a_second_run_changes_nothing():
    first = run(str(UAE))
    assert "50 created, 0 updated, 0 unchanged, 0 rejected" in first
    assert ProtectedArea.objects.count() == 50
    before = {a.pk: a.updated for a in ProtectedArea.objects.all()}

    second = run(str(UAE / "pad-united-arab-emirates.shp"))
    assert "0 created, 0 updated, 50 unchanged, 0 rejected" in second
    assert {a.pk: a.updated for a in ProtectedArea.objects.all()} == before


def test_it_keeps_arabic_names_and_maps_the_pad_schema():
    run(str(UAE))
    area = ProtectedArea.objects.get(source="pad-united-arab-emirates", source_id="2")
    assert area.name == "Al Aqah Marine Reserve"
    assert area.orig_name == "محمية العقة"
    assert area.designation_eng == "Marine Reserve"
    assert area.iso3 == "ARE"
    assert area.timezone == "Asia/Dubai"
    assert area.attributes["langloc"] == "ara"
    assert 0 < area.area_km2 < 10


def test_it_repairs_the_invalid_uae_polygon_and_reports_it():
    out = run(str(UAE))
    assert "repaired 35: invalid geometry repaired (Self-intersection" in out
    area = ProtectedArea.objects.get(source_id="35")
    assert area.boundary.valid
    assert area.boundary.geom_type == "MultiPolygon"


def test_it_imports_png_provinces_from_polygon_z_and_drops_z():
    out = run(str(PNG_ADM1), "--id-field", "ADM1_PCODE", "--name-field", "ADM1_EN")
    assert "22 created" in out
    central = ProtectedArea.objects.get(source_id="PG03")
    assert central.name == "Central Province"
    assert not central.boundary.hasz
    assert central.boundary.geom_type == "MultiPolygon"
    assert central.timezone == "Pacific/Port_Moresby"
    # Central Province is about 29,500 km² (equal-area computation).
    assert 27000 < central.area_km2 < 32000


def test_it_guesses_the_ocha_pcode_and_name_fields():
    out = run(str(PNG_ADM1))
    assert "22 created" in out
    assert ProtectedArea.objects.filter(source="png_admbnda_adm1_20180419").count() == 22


def test_it_imports_a_classic_wdpa_geopackage(tmp_path: Path):
    path = write(tmp_path / "wdpa.gpkg", [classic_row()], [SQUARE])
    out = run(str(path))
    assert "(wdpa schema" in out
    area = ProtectedArea.objects.get()
    assert (area.source, area.source_id, area.wdpa_id) == ("wdpa", "1001", 1001)
    assert area.name == "Mount Wilhelm"
    assert area.orig_name == "Mt Wilhelm"
    assert area.iucn_category == "II"
    assert area.status == "Designated"
    assert area.status_year == 1978
    assert area.governance == "Federal or national ministry or agency"
    assert area.management_authority == "CEPA"
    assert area.reported_area_km2 == 120.5
    assert area.marine == 0
    assert area.iso3 == "PNG"
    # 0.1° × 0.1° at 6° S is about 11.06 km × 11.0 km.
    assert area.area_km2 == pytest.approx(122.4, rel=0.01)
    assert area.attributes["SUB_LOC"] == "PG-CPK"


def test_it_imports_the_2025_wdpa_schema_from_geojson(tmp_path: Path):
    rows = [site_row(), site_row(SITE_ID=2003, SITE_PID="2003_A", NAME_ENG="Sea", REALM="Marine")]
    path = write(tmp_path / "wdpa2025.geojson", rows, [SQUARE, box(146, -6, 146.1, -5.9)])
    out = run(str(path))
    assert "(wdpa-2025 schema" in out
    lake = ProtectedArea.objects.get(source_id="2002")
    assert (lake.wdpa_id, lake.name, lake.parent_iso3, lake.iucn_category) == (
        2002,
        "Lake Kutubu",
        "PNG",
        "VI",
    )
    sea = ProtectedArea.objects.get(source_id="2003_A")
    assert (sea.wdpa_id, sea.wdpa_pid, sea.marine) == (2003, "2003_A", 2)


def test_both_schemas_share_wdpa_ids_so_a_newer_release_updates_in_place(tmp_path: Path):
    run(str(write(tmp_path / "old.gpkg", [classic_row(WDPAID=2002, WDPA_PID="2002")], [SQUARE])))
    out = run(str(write(tmp_path / "new.geojson", [site_row()], [SQUARE])))
    assert "0 created, 1 updated" in out
    assert ProtectedArea.objects.get().name == "Lake Kutubu"


def test_an_updated_file_updates_in_place(tmp_path: Path):
    path = write(
        tmp_path / "a.gpkg", [classic_row(), classic_row(WDPAID=1002, WDPA_PID="1002")], [SQUARE, SQUARE]
    )
    run(str(path))
    pk = ProtectedArea.objects.get(source_id="1001").pk
    bigger = box(145.0, -6.0, 145.2, -5.9)
    path = write(
        tmp_path / "b.gpkg",
        [classic_row(STATUS_YR=1980), classic_row(WDPAID=1002, WDPA_PID="1002")],
        [bigger, SQUARE],
    )
    out = run(str(path))
    assert "0 created, 1 updated, 1 unchanged" in out
    area = ProtectedArea.objects.get(source_id="1001")
    assert area.pk == pk
    assert area.status_year == 1980
    assert area.area_km2 == pytest.approx(244.8, rel=0.01)


def test_it_repairs_broken_geometries(tmp_path: Path):
    path = write(tmp_path / "bowtie.gpkg", [classic_row()], [BOWTIE])
    out = run(str(path))
    assert "repaired 1001: invalid geometry repaired (Self-intersection" in out
    area = ProtectedArea.objects.get()
    assert area.boundary.valid
    assert len(area.boundary) == 2  # the two triangles of the bow tie


def test_it_reprojects_a_file_in_another_crs(tmp_path: Path):
    # The same square in Web Mercator.
    import geopandas as gpd

    mercator = gpd.GeoSeries([SQUARE], crs="EPSG:4326").to_crs("EPSG:3857")[0]
    out = run(str(write(tmp_path / "merc.gpkg", [classic_row()], [mercator], crs="EPSG:3857")))
    assert "Reprojected from EPSG:3857" in out
    west, south, east, north = ProtectedArea.objects.get().boundary.extent
    assert (west, south, east, north) == pytest.approx((145.0, -6.0, 145.1, -5.9), abs=1e-9)


def test_it_refuses_projected_coordinates_without_a_crs(tmp_path: Path):
    import geopandas as gpd

    utm = gpd.GeoSeries([SQUARE], crs="EPSG:4326").to_crs("EPSG:32755")[0]
    path = write(tmp_path / "nocrs.shp", [classic_row()], [utm], crs=None)
    with pytest.raises(CommandError, match="no coordinate reference system"):
        run(str(path))
    assert ProtectedArea.objects.count() == 0
    out = run(str(path), "--source-crs", "EPSG:32755")
    assert "1 created" in out
    assert ProtectedArea.objects.get().boundary.extent == pytest.approx((145.0, -6.0, 145.1, -5.9), abs=1e-6)


def test_it_rejects_an_empty_file(tmp_path: Path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(CommandError, match="no features. Nothing was imported"):
        run(str(path))


def test_it_rejects_a_file_that_is_not_geodata(tmp_path: Path):
    path = tmp_path / "notes.geojson"
    path.write_text("These are patrol notes, not a map.")
    with pytest.raises(CommandError, match="not a geodata file GDAL can read"):
        run(str(path))
    path = tmp_path / "photo.shp"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    with pytest.raises(CommandError, match="not a geodata file"):
        run(str(path))
    assert ProtectedArea.objects.count() == 0


def test_it_rejects_a_table_without_geometries(tmp_path: Path):
    path = tmp_path / "table.csv"
    path.write_text("WDPAID,NAME\n1,Somewhere\n")
    with pytest.raises(CommandError, match="not polygons"):
        run(str(path))


def test_it_rejects_points_lines_and_duplicates_with_reasons(tmp_path: Path):
    from shapely.geometry import LineString

    rows = [
        classic_row(),
        classic_row(WDPAID=1002, WDPA_PID="1002"),
        classic_row(WDPAID=1003, WDPA_PID="1003"),
        classic_row(),
    ]
    geoms = [SQUARE, wdpa_files.point(), LineString([(145, -6), (145.1, -5.9)]), SQUARE]
    out = run(str(write(tmp_path / "mixed.gpkg", rows, geoms)))
    assert "rejected feature 1 (1002): a point, not a boundary" in out
    assert "rejected feature 2 (1003): a line, not a boundary" in out
    assert "rejected feature 3 (1001): duplicate id (first at feature 0)" in out
    assert "1 created, 0 updated, 0 unchanged, 3 rejected" in out


def test_it_reads_a_zipped_shapefile_and_kml(tmp_path: Path):
    write(tmp_path / "parks.shp", [classic_row()], [SQUARE])
    archive = tmp_path / "parks.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("parks.*"):
            if part != archive:
                zf.write(part, part.name)
    assert "1 created" in run(str(archive))
    assert ProtectedArea.objects.get(source_id="1001").parent_iso3 == "PNG"  # from PARENT_ISO

    kml = write(
        tmp_path / "parks.kml",
        [{"Name": "Kimbe Bay", "code": "K1"}],
        [box(150.3, -5.3, 150.4, -5.2)],
        driver="KML",
    )
    out = run(str(kml), "--id-field", "code", "--name-field", "Name")
    assert "1 created" in out
    assert ProtectedArea.objects.get(source_id="K1").name == "Kimbe Bay"


def test_it_asks_which_layer_of_a_multi_layer_file(tmp_path: Path):
    path = tmp_path / "multi.gpkg"
    write(path, [classic_row()], [SQUARE], layer="parks")
    write(path, [classic_row(WDPAID=1002, WDPA_PID="1002")], [SQUARE], layer="reserves")
    with pytest.raises(CommandError, match="several layers; choose one with --layer: parks, reserves"):
        run(str(path))
    with pytest.raises(CommandError, match="no layer 'other'"):
        run(str(path), "--layer", "other")
    assert "1 created" in run(str(path), "--layer", "reserves")
    assert ProtectedArea.objects.get().source_id == "1002"


def test_it_names_missing_fields(tmp_path: Path):
    path = write(tmp_path / "plain.gpkg", [{"label": "x"}], [SQUARE])
    with pytest.raises(CommandError, match="no id/name field could be guessed.*label"):
        run(str(path))
    with pytest.raises(CommandError, match="no id field 'code'"):
        run(str(path), "--id-field", "code", "--name-field", "label")


def test_a_failure_midway_writes_nothing(tmp_path: Path):
    rows = [classic_row(WDPAID=i, WDPA_PID=str(i)) for i in range(1, 6)]
    path = write(tmp_path / "five.gpkg", rows, [SQUARE] * 5)
    original_save = ProtectedArea.save
    calls = {"n": 0}

    def flaky_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original_save(self, *args, **kwargs)

    with mock.patch.object(ProtectedArea, "save", flaky_save), pytest.raises(RuntimeError):
        import_areas(path)
    assert ProtectedArea.objects.count() == 0


def test_dry_run_reports_without_writing(tmp_path: Path):
    out = run(str(write(tmp_path / "a.gpkg", [classic_row()], [SQUARE])), "--dry-run")
    assert "dry run, nothing written: 1 created" in out
    assert ProtectedArea.objects.count() == 0


def test_multipolygons_stay_whole(tmp_path: Path):
    two = MultiPolygon([box(145, -6, 145.1, -5.9), Polygon([(146, -6), (146.1, -6), (146.1, -5.9)])])
    run(str(write(tmp_path / "two.gpkg", [classic_row()], [two])))
    assert len(ProtectedArea.objects.get().boundary) == 2
