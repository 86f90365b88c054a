"""HTTP in, domain calls, HTML/JSON out. The only package that imports Flask."""
