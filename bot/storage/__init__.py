"""Our tables (complaints, handoffs, staff, audit log) on SQLAlchemy 1.4, 2.0-style API.

``db`` builds engines and units of work, ``models`` maps the tables, ``repositories``
query them (never commit), ``services`` are the use cases (one transaction each) and
``errors`` the domain errors that actions and the console turn into replies.
"""
