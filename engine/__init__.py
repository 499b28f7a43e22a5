"""flowbot: a declarative conversation engine for WhatsApp commerce."""

__version__ = "0.1.0"
