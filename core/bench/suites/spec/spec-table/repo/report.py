def render_table(rows):
    """Render rows as the table described in FORMAT.md."""
    raise NotImplementedError
