"""The HTTP API under /api/v1/: one NinjaAPI, each domain adds its router."""
