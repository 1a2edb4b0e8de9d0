"""The co-handling line (协办): extract, validate, route, deliver, collect results, publish the report."""
