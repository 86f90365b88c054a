"""Background work: jobs claimed from the jobs table by `testimony worker` (jobs.py)."""
