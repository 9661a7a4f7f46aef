"""The tables maps keeps for itself: observation counts per cluster cell, precomputed so that
a map at low zoom reads a few thousand rows instead of every point in view, and the context
boundaries drawn under the areas (provinces)."""

from __future__ import annotations

from django.contrib.gis.db import models


class ClusterCount(models.Model):
    """Observations counted on the cluster grid of one zoom (maps.geo.cluster_cell): per
    cell, area the records lie in, vertical and month. Counted on the generalised points
    (accounts.generalisation), so no row places a sensitive record more finely than its
    generalisation cell; records whose location is withheld are counted apart (`withheld`,
    at their exact place) and shown only to who may see them exactly.

    A record in two areas has a row in each; `is_home` marks the row of its own area (the
    smallest holding it), the one counted when no area is chosen. Written only by
    maps.clusters (rebuilt by `manage.py refresh_map_clusters`, kept current after each
    submission)."""

    zoom = models.PositiveSmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    area = models.ForeignKey("protected_areas.ProtectedArea", on_delete=models.CASCADE, related_name="+")
    # The record's own area: whose VIEW_EXACT_SENSITIVE_LOCATIONS shows a withheld record.
    home = models.ForeignKey(
        "protected_areas.ProtectedArea", on_delete=models.CASCADE, related_name="+", null=True
    )
    is_home = models.BooleanField()
    vertical = models.CharField(max_length=20)
    month = models.DateField(null=True)
    withheld = models.BooleanField()
    n = models.IntegerField()
    sx = models.FloatField()
    sy = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["zoom", "cx", "cy"], name="maps_cluster_cell"),
            models.Index(fields=["area", "month"], name="maps_cluster_area_month"),
        ]


class ClusterState(models.Model):
    """One row once the counts are built: the sensitivity rules and taxon levels they were
    counted with. When these change the counts may show a record too finely, so the maps
    count live until they are rebuilt."""

    rules = models.CharField(max_length=200)
    built_at = models.DateTimeField()


class ContextBoundary(models.Model):
    """A boundary drawn for orientation only (provinces, districts): never a protected area,
    never used to assign records. Loaded by `manage.py load_context_boundaries`."""

    layer = models.CharField(max_length=40)
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    boundary = models.MultiPolygonField(srid=4326)
    boundary_simplified = models.MultiPolygonField(srid=4326, null=True)
    source = models.CharField(max_length=200)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["layer", "code"], name="maps_context_layer_code")]
