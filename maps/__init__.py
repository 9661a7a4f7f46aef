"""Maps and dashboards: the pages managers, NGOs and donors open, and the map data they
load, read through the queries and the access policy of the floors below."""
