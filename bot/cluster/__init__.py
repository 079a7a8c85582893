"""Cluster mode on one machine (``make cluster``): PostgreSQL, Redis, nginx and several Rasa
and action servers on loopback — the same code and settings a union's IT team deploys with
``deploy/``, used by the fault tests and the load benchmark."""
