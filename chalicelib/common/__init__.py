"""Cross-cutting modules: settings, errors and their HTTP mapping, logs, resources, the clock."""
