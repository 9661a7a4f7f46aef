"""File formats of record exports: pure writers, no database.

Each writer takes a Layout (the columns, their types, the geometry type) and the rows as
an iterator of chunks — lists of (values, shapely geometry or None) — and holds one chunk at a
time: CSV and GeoJSON are produced as a stream of bytes, the others are written to a file
chunk by chunk (openpyxl's write-only workbook; pyogrio in append mode for GeoPackage,
Shapefile and KML, the latter through GDAL's LIBKML driver, which pyogrio's GDAL has).

Shapefile field names have at most 10 characters: `shapefile_names` shortens each column
(the first 10 characters, then a number where two would clash) and the zip carries
`fields.csv`, the short name of every column beside its full name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

Chunk = list[tuple[list[Any], Any]]


@dataclass(frozen=True)
class Layout:
    """What a table of records looks like: `types` are "str", "int", "float" or "bool";
    `geometry` "Point", "MultiLineString" or None (a table without geometry)."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    geometry: str | None = None

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.types):
            raise ValueError(f"{self.name}: {len(self.columns)} columns but {len(self.types)} types")
        unknown = set(self.types) - {"str", "int", "float", "bool"}
        if unknown:
            raise ValueError(f"{self.name}: unknown column types {sorted(unknown)}")


# Formats: name -> (file suffix, content type, needs a geometry).
FORMATS: dict[str, tuple[str, str, bool]] = {
    "csv": ("csv", "text/csv; charset=utf-8", False),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
    "geojson": ("geojson", "application/geo+json", False),
    "gpkg": ("gpkg", "application/geopackage+sqlite3", False),
    "shp.zip": ("shp.zip", "application/zip", True),
    "kml": ("kml", "application/vnd.google-earth.kml+xml", True),
}
STREAMED = ("csv", "geojson")


def plain(value: Any) -> Any:
    """A value as text files hold it: dates and times in ISO 8601, UUIDs and decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def _text_columns(layout: Layout) -> list[str]:
    """CSV and spreadsheet columns: a line geometry is added as WKT (points have their
    latitude and longitude among the columns)."""
    return [*layout.columns, "wkt"] if layout.geometry == "MultiLineString" else list(layout.columns)


def _text_row(layout: Layout, values: list[Any], geometry: Any) -> list[Any]:
    row = [plain(v) for v in values]
    if layout.geometry == "MultiLineString":
        row.append(geometry.wkt if geometry is not None else None)
    return row


def csv_stream(layout: Layout, chunks: Iterable[Chunk]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_text_columns(layout))
    for chunk in chunks:
        writer.writerows(_text_row(layout, values, geometry) for values, geometry in chunk)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def geojson_stream(layout: Layout, chunks: Iterable[Chunk]) -> Iterator[bytes]:
    import shapely

    yield b'{"type": "FeatureCollection", "features": ['
    first = True
    for chunk in chunks:
        parts = []
        for values, geometry in chunk:
            properties = dict(zip(layout.columns, (plain(v) for v in values), strict=True))
            shape = shapely.to_geojson(geometry) if geometry is not None else "null"
            item = json.dumps({"type": "Feature", "properties": properties})
            parts.append(("" if first else ",\n") + item[:-1] + f', "geometry": {shape}}}')
            first = False
        yield "".join(parts).encode()
    yield b"]}\n"


def write_xlsx(layout: Layout, chunks: Iterable[Chunk], path: str) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(layout.name[:31])
    sheet.append(_text_columns(layout))
    written = 0
    for chunk in chunks:
        for values, geometry in chunk:
            sheet.append(_text_row(layout, values, geometry))
        written += len(chunk)
    book.save(path)
    return written


def _text(value: Any) -> str | None:
    """A value of a text column: str(plain(value)), None kept."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _frame(layout: Layout, chunk: Chunk, names: list[str] | None = None) -> Any:
    import geopandas
    import pandas

    names = names or list(layout.columns)
    table: dict[str, Any] = {}
    for i, (name, kind) in enumerate(zip(names, layout.types, strict=True)):
        # Numbers and booleans are written as they are (plain() leaves them alone); text
        # columns get plain()'s text of dates, UUIDs and decimals.
        if kind == "int":
            table[name] = pandas.array([values[i] for values, _ in chunk], dtype="Int64")
        elif kind == "float":
            column = [values[i] for values, _ in chunk]
            table[name] = pandas.array([None if v is None else float(v) for v in column], dtype="Float64")
        elif kind == "bool":
            table[name] = pandas.array([values[i] for values, _ in chunk], dtype="boolean")
        else:
            table[name] = pandas.array([_text(values[i]) for values, _ in chunk], dtype="object")
    if layout.geometry is None:
        return pandas.DataFrame(table)
    return geopandas.GeoDataFrame(table, geometry=[g for _, g in chunk], crs="EPSG:4326")


def _write_ogr(
    layout: Layout, chunks: Iterable[Chunk], path: str, driver: str, names: list[str] | None = None
) -> int:
    import pyogrio

    written = 0
    options: dict[str, Any] = {"geometry_type": layout.geometry} if layout.geometry else {}
    for chunk in chunks:
        if not chunk:
            continue
        frame = _frame(layout, chunk, names)
        pyogrio.write_dataframe(frame, path, layer=layout.name, driver=driver, append=written > 0, **options)
        written += len(chunk)
    if written == 0:
        pyogrio.write_dataframe(_frame(layout, [], names), path, layer=layout.name, driver=driver, **options)
    return written


_ARROW_TYPES = {"int": "int64", "float": "float64", "bool": "bool_", "str": "string"}


def _batch(layout: Layout, chunk: Chunk) -> Any:
    """A chunk as an Arrow record batch: the columns typed as _frame types them, the
    geometry as WKB in a last column, `geometry`."""
    import pyarrow
    import shapely

    arrays = []
    for i, kind in enumerate(layout.types):
        column: list[Any]
        if kind == "float":
            column = [None if values[i] is None else float(values[i]) for values, _ in chunk]
        elif kind == "str":
            column = [_text(values[i]) for values, _ in chunk]
        else:
            column = [values[i] for values, _ in chunk]
        arrays.append(pyarrow.array(column, type=getattr(pyarrow, _ARROW_TYPES[kind])()))
    geometries = shapely.to_wkb([geometry for _, geometry in chunk])
    arrays.append(pyarrow.array(geometries, type=pyarrow.binary()))
    return pyarrow.RecordBatch.from_arrays(arrays, names=[*layout.columns, "geometry"])


def write_gpkg(layout: Layout, chunks: Iterable[Chunk], path: str) -> int:
    """A GeoPackage. With a geometry, the chunks go to GDAL as one stream of Arrow record
    batches (pyogrio.write_arrow): one layer written in one pass, its spatial index built once
    at the end; the chunks are still read and converted one at a time."""
    import pyogrio

    # A temporary file, sent once complete: SQLite need not sync it to disk as it grows.
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    stream = (chunk for chunk in chunks if chunk)
    first = next(stream, None)
    if first is None:
        return _write_ogr(layout, [], path, "GPKG")
    if layout.geometry is None:
        return _write_ogr(layout, _chained(first, stream), path, "GPKG")
    import pyarrow

    written = 0

    def batches() -> Iterator[Any]:
        nonlocal written
        for chunk in _chained(first, stream):
            written += len(chunk)
            yield _batch(layout, chunk)

    head = _batch(layout, first)
    reader = pyarrow.RecordBatchReader.from_batches(head.schema, batches())
    pyogrio.write_arrow(
        reader,
        path,
        layer=layout.name,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type=layout.geometry,
        crs="EPSG:4326",
    )
    return written


def _chained(first: Chunk, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield first
    yield from rest


def write_kml(layout: Layout, chunks: Iterable[Chunk], path: str) -> int:
    """KML for Google Earth, through GDAL's LIBKML driver (one Placemark per record, the
    columns as ExtendedData)."""
    return _write_ogr(layout, chunks, path, "LIBKML")


def shapefile_names(columns: Iterable[str]) -> list[str]:
    """Field names of at most 10 characters, unique: the first 10 characters of each
    column, or its first 8 and a number when that would clash (case-insensitively)."""
    names: list[str] = []
    taken: set[str] = set()
    for column in columns:
        name = column[:10]
        n = 1
        while name.lower() in taken:
            name = f"{column[:8]}{n:02d}"[:10]
            n += 1
        taken.add(name.lower())
        names.append(name)
    return names


def write_shapefile_zip(layout: Layout, chunks: Iterable[Chunk], path: str) -> int:
    """A zipped Shapefile (`<name>.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`) and `fields.csv`
    (short name, column)."""
    names = shapefile_names(layout.columns)
    with tempfile.TemporaryDirectory(prefix="fieldkit-shp-") as folder:
        shp = os.path.join(folder, f"{layout.name}.shp")
        written = _write_ogr(layout, chunks, shp, "ESRI Shapefile", names)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(os.listdir(folder)):
                archive.write(os.path.join(folder, file), file)
            fields = io.StringIO()
            writer = csv.writer(fields, lineterminator="\r\n")
            writer.writerow(["field", "column"])
            writer.writerows(zip(names, layout.columns, strict=True))
            archive.writestr("fields.csv", fields.getvalue())
    return written


FILE_WRITERS: dict[str, Callable[[Layout, Iterable[Chunk], str], int]] = {
    "xlsx": write_xlsx,
    "gpkg": write_gpkg,
    "shp.zip": write_shapefile_zip,
    "kml": write_kml,
}
STREAMS: dict[str, Callable[[Layout, Iterable[Chunk]], Iterator[bytes]]] = {
    "csv": csv_stream,
    "geojson": geojson_stream,
}


def write_file(fmt: str, layout: Layout, chunks: Iterable[Chunk], path: str) -> None:
    """Any format to a file at `path` (the streamed ones too, for export jobs)."""
    if fmt in STREAMS:
        with open(path, "wb") as handle:
            for block in STREAMS[fmt](layout, chunks):
                handle.write(block)
    else:
        FILE_WRITERS[fmt](layout, chunks, path)
