"""Rendering outgoing messages: Jinja2 templates, the post-office directory, MIME building."""
