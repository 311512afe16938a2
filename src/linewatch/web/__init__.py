"""The web UI: layout, navigation, pages of the plant model, shared static assets."""
