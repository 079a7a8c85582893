"""Custom actions for the Rasa action server (rasa_sdk).

One module per concern (complaint, handoff, calculators, session), each thin: read
slots, call ``bot.*``, utter, return events. The FAQ answers need no custom action:
they are Rasa responses generated from data/knowledge/.
"""

from bot import logmask

# The action server's logs: phone and ID numbers masked above debug level.
logmask.install()
