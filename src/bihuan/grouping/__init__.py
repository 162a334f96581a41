"""Fast grouping (快编组): travel units of households and categories, vehicle loads of nearby pickups."""
