"""Lyceum: a course marketplace.

The package itself imports nothing, so importing one module (a model, a service) does not
drag in the web layer. The application is assembled in `app.factory.create_app`, the
composition root that imports every layer (ARCHITECTURE §14)."""
