"""Configuration: chain files, scenario and sweep files (schemas, YAML, errors, built-in files)."""
