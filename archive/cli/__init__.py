"""The `testimony` command line (main.py), one module per area, each command a thin call into the layers below."""
