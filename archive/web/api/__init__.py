"""The JSON API under /api/ (docs/api.md, /api/openapi.json), all of it: errors are {"error": …} with a 4xx status."""
