"""Reports: the donor report of an area and year, as a PDF made on the server."""
