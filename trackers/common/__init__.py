"""Parts the tracker families share: crops and scale search, correlation layers, complexity measurement."""
