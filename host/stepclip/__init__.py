"""stepclip: host tool for the stepclip step counter."""
__version__ = "0.1.0"
