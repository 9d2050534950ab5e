"""What the package writes and shows: files (atomic writes, caches), images (uint8, grids, PNG), plots (matplotlib,
no display), progress lines, and the command-line plumbing of tools/ (cli). Nothing here knows GANs."""

__all__ = ["cli", "files", "images", "plots", "progress"]
